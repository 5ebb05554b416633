"""Segmentation + voxel tissue fractions on a 1 mm head-sized phantom: time and accuracy.

    python benchmarks/bench_segment.py [--segmenter builtin|atropos] [--write-docs]

The phantom (mrsquant.quant.synthetic.head: ellipsoid WM core, GM shell, CSF shell and a
ventricle; 180 x 216 x 180 at 1 mm, oblique 8/-5/12 degrees, skull-stripped, Gaussian noise
3 % of WM) is segmented and the fractions of three 3 cm voxels (frontal GM/WM border, WM with
the ventricle, the cortical GM/CSF shell) are compared with the true fractions from sampling
the phantom's geometry itself. Each segmenter writes its own section of docs/benchmarks.md.
ANTs uses ITK threads: capped at 2 (ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS) like the machine.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from mrsquant.quant import segment, synthetic, voxel  # noqa: E402

SHAPE = (180, 216, 180)
VOXELS = {   # name: (centre mm, rotation degrees)
    "GM/WM border": ((0.0, 52.0, 10.0), (10, 0, 0)),
    "WM + ventricle": ((0.0, 10.0, 14.0), (0, 0, 15)),
    "GM/CSF shell": ((0.0, -70.0, 0.0), (0, 20, 0)),
}


def run(method: str) -> tuple[str, dict]:
    labels = synthetic.head()
    affine = synthetic.grid_affine(SHAPE, (1.0, 1.0, 1.0), degrees_xyz=(8, -5, 12))
    t = time.perf_counter()
    maps = synthetic.tissue_maps(labels, SHAPE, affine, oversample=2)
    t1 = synthetic.t1_image(maps, noise_sd=0.03, seed=1)
    t_phantom = time.perf_counter() - t
    t = time.perf_counter()
    seg = segment.segment_t1(t1, (1.0, 1.0, 1.0), method=method)
    t_seg = time.perf_counter() - t
    rows, t_frac = [], 0.0
    for name, (centre, rot) in VOXELS.items():
        box = synthetic.box_affine((30, 30, 30), degrees_xyz=rot, centre_mm=centre)
        truth = synthetic.true_fractions(labels, box)
        t = time.perf_counter()
        w = voxel.voxel_mask(box, SHAPE, affine)
        f = voxel.tissue_fractions(w, **seg)
        t_frac += time.perf_counter() - t
        fp = voxel.tissue_fractions(w, **maps)   # the phantom's own maps: geometry error only
        rows.append((name, truth, f, fp))
    lines = [
        f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node()} "
        f"({os.cpu_count()} cores, {platform.processor() or platform.machine()}), "
        f"`python benchmarks/bench_segment.py --segmenter {method}`; phantom {SHAPE} at 1 mm "
        f"({np.prod(SHAPE) / 1e6:.1f} M voxels, made in {t_phantom:.1f} s); numpy {np.__version__}"
        + (" (antspyx needs numpy < 2.4: run from a separate venv with mrsquant on PYTHONPATH)"
           if method == "atropos" else "") + ".",
        "",
        f"Segmentation ({method}): **{t_seg:.1f} s**; voxel mask + fractions: "
        f"**{t_frac / len(VOXELS):.2f} s** per voxel (30 x 30 x 30 mm, oblique to the T1).",
        "",
        "| voxel | true GM / WM / CSF | from the phantom's maps | segmented |",
        "|---|---|---|---|",
    ]
    fmt = "{gm:.3f} / {wm:.3f} / {csf:.3f}"
    for name, truth, f, fp in rows:
        lines.append(f"| {name} | {fmt.format(**truth)} | {fmt.format(**fp)} | {fmt.format(**f)} |")
    err = max(abs(f[t] - truth[t]) for _, truth, f, _ in rows for t in ("gm", "wm", "csf"))
    lines += ["", f"Largest segmented-fraction error: {err:.3f} (absolute)."]
    return "\n".join(lines), {"seg_s": t_seg, "frac_s": t_frac / len(VOXELS), "max_err": err}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segmenter", default="builtin", choices=segment.SEGMENTERS)
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args(argv)
    text, _ = run(args.segmenter)
    print(text)
    if args.write_docs:
        from _docs import write_section

        write_section(f"segment-{args.segmenter}", f"## Segmentation and tissue fractions "
                      f"({args.segmenter})\n\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
