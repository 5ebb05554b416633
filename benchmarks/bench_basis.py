"""Speed, memory and accuracy of the basis simulator.

Usage: python benchmarks/bench_basis.py [--write] [--repeats 3]

Times a full 3T (123.2 MHz) basis set (all 22 metabolites of the library, 2048
points, 4000 Hz) for each sequence, reports peak memory (tracemalloc peak of
the simulation and the process' max RSS), and the correlation with the ISMRM
fitting-challenge basis (PRESS TE 30, TE1 11 / TE2 19; line and offset fitted
on Cr; with and without one per-metabolite frequency offset). With ``--write``
the tables replace the basis section of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from _docs import write_section
from scipy.optimize import minimize, minimize_scalar

from mrsquant import axes
from mrsquant.basis.io import load_basis
from mrsquant.basis.simulate import simulate_basis

ROOT = Path(__file__).resolve().parents[1]
ACQ = dict(field_mhz=123.2, n_points=2048, bandwidth_hz=4000.0)
CASES = [
    ("PRESS TE 30 (11/19)", "press", dict(te_ms=30, te1_ms=11, te2_ms=19)),
    ("sLASER TE 30", "slaser", dict(te_ms=30)),
    ("STEAM TE 20, TM 10", "steam", dict(te_ms=20, tm_ms=10)),
    ("MEGA-PRESS TE 68 GABA DIFF (ON+OFF)", "mega-press", dict(te_ms=68, edit_ppm=1.9)),
    ("PRESS TE 30, 7T (297.2 MHz), 4096 pts, 6000 Hz", "press",
     dict(te_ms=30, field_mhz=297.2, n_points=4096, bandwidth_hz=6000.0)),
]
PTA = Path(os.environ.get("MRSQUANT_DATA", ROOT.parent / "shared" / "data")) / "rf_pulses" / \
    "sampleRefocPulse.pta"
if PTA.is_file():
    CASES.append(("PRESS TE 30 (11/19), shaped refocusing (Mao 5.2 ms, 41 x 41 positions)",
                  "press", dict(te_ms=30, te1_ms=11, te2_ms=19, refocusing_pulse=PTA)))
AFP = PTA.with_name("sampleAFPpulse_HS2_R15.RF")
if AFP.is_file():
    CASES.append(("sLASER TE 30, shaped AFP refocusing (HS2 R15, 5.2 ms, 41 x 41 positions)",
                  "slaser", dict(te_ms=30, refocusing_pulse=AFP, refocusing_ms=5.2)))
EDIT = PTA.with_name("sampleEditPulse.pta")
if EDIT.is_file():
    CASES.append(("MEGA-PRESS TE 68 GABA DIFF, shaped editing pulse (14 ms)",
                  "mega-press", dict(te_ms=68, edit_ppm=1.9, editing_pulse=EDIT, editing_ms=14.0)))


def time_case(seq, kw, repeats):
    args = {**ACQ, **kw}
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        b = simulate_basis(seq, **args)
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    simulate_basis(seq, **args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return len(b.names), min(times), float(np.median(times)), peak / 2**20


#: cited alternative spin-system entries (docs/basis.md, "Challenge comparison")
VARIANTS = {"GSH": "tkac2008", "Asc": "terpstra2006"}


def challenge_correlations(folder: Path):
    """Rows (name, r with Cr line+offset, r + own offset, own offset Hz, r of the cited
    variant + own offset or None)."""
    ref = load_basis(folder)
    names = [n for n in ref.names if n != "Mac"]
    sim = simulate_basis("press", te_ms=30, te1_ms=11, te2_ms=19, metabolites=names, **ACQ)
    alt = simulate_basis("press", te_ms=30, te1_ms=11, te2_ms=19, metabolites=names,
                         spin_variants=VARIANTS, **ACQ)
    t = np.arange(2048) / 4000.0
    win = (sim.ppm > 0.2) & (sim.ppm < 4.2)

    def spec(fid, lw, sh):
        return axes.to_spectrum(fid * np.exp(-np.pi * lw * t - 2j * np.pi * sh * t))[win].real

    def corr(a, b):
        a, b = a - a.mean(), b - b.mean()
        return float(a @ b / np.sqrt((a @ a) * (b @ b)))
    rc = axes.to_spectrum(ref.fids[ref.names.index("Cr")])[win].real
    res = minimize(lambda p: -corr(spec(sim.fids[sim.names.index("Cr")], *p), rc), [2.0, 0.0],
                   method="Nelder-Mead")
    lw, sh = res.x
    def own(f, r):
        best = minimize_scalar(lambda s: -corr(spec(f, lw, sh + s), r), bounds=(-1.5, 1.5),
                               method="bounded")
        return -best.fun, best.x
    rows = []
    for n in names:
        r = axes.to_spectrum(ref.fids[ref.names.index(n)])[win].real
        f = sim.fids[sim.names.index(n)]
        c, s = own(f, r)
        v = own(alt.fids[alt.names.index(n)], r)[0] if n in VARIANTS else None
        rows.append((n, corr(spec(f, lw, sh), r), c, s, v))
    return lw, sh, rows


# Singlet positions of the challenge's own Cr/PCr entries, from a least-squares fit of two
# Lorentzians to each (line 2.000 Hz, amplitudes 3.000/2.000, phase 0 come out exactly).
CHALLENGE_CR = {("Cr", 3.027): 3.0233, ("Cr", 3.913): 3.9096,
                ("PCr", 3.029): 3.0287, ("PCr", 3.93): 3.9312}


def fit_comparison(ch: Path, *, cr_from_challenge: bool = False, spin_variants=None,
                   **fit_options):
    """tNAA/tCr, tCho/tCr, Glx/tCr, mI/tCr of challenge datasets 1-21: simulated vs supplied basis.

    Both bases are fitted with the same ``FitModel`` options (``fit_options``, e.g.
    ``metabolite_shifts=True``); ``spin_variants`` is passed to ``simulate_basis``.
    """
    import json
    import tempfile

    import mrsquant as mq
    from mrsquant.basis.spin_systems import LIBRARY_PATH
    from mrsquant.fitting import FitModel
    sup = load_basis(ch / "basisset_text_noTMS")
    names = [n for n in sup.names if n != "Mac"]
    lib = None
    if cr_from_challenge:
        doc = json.loads(LIBRARY_PATH.read_text())
        for name in ("Cr", "PCr"):
            for g in doc["metabolites"][name]["groups"]:
                g["shifts_ppm"] = [CHALLENGE_CR.get((name, x), x) for x in g["shifts_ppm"]]
        lib = Path(tempfile.mkstemp(suffix=".json")[1])
        lib.write_text(json.dumps(doc))
    sim = simulate_basis("press", te_ms=30, te1_ms=11, te2_ms=19, metabolites=names, lw_hz=2.0,
                         spin_library=lib, spin_variants=spin_variants,
                         **ACQ).concat(sup.select(["Mac"]))
    specs = [mq.load(ch / "datasets_text" / f"dataset{i}.txt") for i in range(1, 22)]
    data = specs[0].replace(data=np.stack([x.data for x in specs]), dims=("dyn",))
    out = {}
    for label, b in (("supplied", sup), ("simulated", sim)):
        r = FitModel(b, **fit_options).fit(data)
        rat = r.ratio("tCr")
        out[label] = {m: rat[:, r.metabolites.index(m)] for m in ("tNAA", "tCho", "Glx", "mI")}
    rows = []
    for m in out["supplied"]:
        d = 100 * (out["simulated"][m] / out["supplied"][m] - 1)
        rows.append((m, float(np.mean(d)), float(np.mean(np.abs(d))), float(np.max(np.abs(d)))))
    return rows


FIT_CASES = [   # label, fit_comparison keywords
    ("Govindaraju/Govind (shipped)", {}),
    ("shipped, `metabolite_shifts=True`", {"metabolite_shifts": True}),
    ("shipped + GSH `tkac2008`, Asc `terpstra2006`", {"spin_variants": VARIANTS}),
    ("same variants, `metabolite_shifts=True`",
     {"spin_variants": VARIANTS, "metabolite_shifts": True}),
    ("shipped, Cr/PCr singlets at the challenge's positions", {"cr_from_challenge": True}),
]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--no-fit", action="store_true", help="skip the fitting comparison")
    ap.add_argument("--data", default=os.environ.get("MRSQUANT_DATA", ROOT.parent / "shared" / "data"))
    args = ap.parse_args(argv)
    if args.write and args.no_fit:
        ap.error("--write rewrites the whole basis section, fitting comparison included: drop --no-fit")
    lines = ["## Basis simulation (`benchmarks/bench_basis.py`)", "",
             f"Machine: {platform.node()}, {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {np.__version__}. "
             f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC. "
             f"Command: `python benchmarks/bench_basis.py --write`.", "",
             "Full library (22 metabolites), ideal pulses, 123.2 MHz, 2048 points, 4000 Hz "
             "unless stated (target for PRESS: <= 20 s, < 1 GB):", "",
             "| case | spectra | best of runs (s) | median (s) | peak traced memory (MiB) |",
             "|---|---|---|---|---|"]
    for label, seq, kw in CASES:
        n, best, med, peak = time_case(seq, kw, args.repeats)
        lines.append(f"| {label} | {n} | {best:.2f} | {med:.2f} | {peak:.0f} |")
        print(lines[-1], flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines += ["", f"Process max RSS over the whole benchmark: {rss:.0f} MiB.", ""]
    folder = Path(args.data) / "fitting_challenge_2016" / "basisset_text_noTMS"
    if folder.is_dir():
        lw, sh, rows = challenge_correlations(folder)
        lines += [f"Against the fitting-challenge basis (PRESS TE 30, TE1 11, TE2 19 ms): Cr fit "
                  f"gives line {lw:.2f} Hz, offset {sh:.2f} Hz, applied to all; correlation of "
                  f"the real spectra over 0.2-4.2 ppm, then with one extra per-metabolite "
                  f"offset (docs/basis.md explains the remaining differences):", "",
                  "| metabolite | r (Cr line + offset) | r (+ own offset) | own offset (Hz) | "
                  "r, cited variant (+ own offset) |",
                  "|---|---|---|---|---|"]
        for n, c1, c2, s, v in rows:
            var = "" if v is None else f"{v:.4f} ({VARIANTS[n]})"
            lines.append(f"| {n} | {c1:.4f} | {c2:.4f} | {s:+.2f} | {var} |")
        if not args.no_fit:
            lines += ["", "Fitting challenge datasets 1-21 with the simulated basis (line 2 Hz, "
                      "plus the challenge's measured `Mac`) instead of the supplied one, both "
                      "fitted with the same `FitModel` options (defaults unless stated): change "
                      "of the ratio to tCr (%):", "",
                      "| ratio | library / fit options | mean change | mean abs change | "
                      "max abs change |", "|---|---|---|---|---|"]
            for label, kw in FIT_CASES:
                for m, mean, mabs, mx in fit_comparison(folder.parent, **kw):
                    lines.append(f"| {m}/tCr | {label} | {mean:+.2f} | {mabs:.2f} | {mx:.2f} |")
                    print(lines[-1], flush=True)
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section("basis", text)


if __name__ == "__main__":
    main()
