"""Speed and memory of the batched fit: in-process, MRSI grid, dask LocalCluster.

Usage:
    python benchmarks/bench_scale.py [--sizes 1 10 100 1000] [--grid 32] [--workers 2]
                                     [--profile] [--write]

Scenarios (each in a fresh subprocess, so peak RSS is per scenario):
  (a) throughput vs batch size in-process: challenge datasets 1-21 cycled with
      fresh noise (``mrsquant.fitting.synthetic.challenge_like``); single-spectrum
      latency after warm-up (median of 5); peak RSS of the largest batch;
  (b) a simulated 32x32x1 MRSI grid (1024 voxels, 2048 points, 22 basis spectra)
      with a water reference: read NIfTI-MRS, fit, water-scale, write maps;
  (c) the same two workloads (largest batch, grid) on a dask LocalCluster with
      2 single-threaded worker processes; overhead vs in-process and the
      per-spectrum agreement of the amplitudes with the in-process fit;
  (d) a plot of throughput vs batch size -> docs/benchmarks_throughput.png.
With --write the results replace the ``scale`` section of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from _docs import write_section

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MRSQUANT_DATA", ROOT.parent / "shared" / "data"))
CH = DATA / "fitting_challenge_2016"
BASIS = CH / "basisset_text_noTMS"
PLOT = ROOT / "docs" / "benchmarks_throughput.png"
#: the dask comparison (c) takes the best of this many runs of each path (the machine is shared)
REPEATS = 2


# ---------------------------------------------------------------------------
# workloads (run inside a child process)
# ---------------------------------------------------------------------------
def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _challenge(n, seed=0):
    import mrsquant as mq
    from mrsquant.fitting.synthetic import challenge_like

    src = [mq.load(CH / "datasets_text" / f"dataset{i}.txt") for i in range(1, 22)]
    s = src[0].replace(data=np.stack([x.data for x in src]), dims=("spectrum",))
    return challenge_like(s, n, seed=seed)


def _model():
    from mrsquant.basis.io import load_basis
    from mrsquant.fitting import FitModel

    return FitModel(load_basis(BASIS))


def run_inprocess(n: int, profile: bool = False) -> dict:
    model = _model()
    spectra = _challenge(n)
    warm = _challenge(1, seed=99)
    model.fit(warm)                       # builds and caches the design
    out = {"n": n}
    if n == 1:
        times = []
        for seed in range(5):
            one = _challenge(1, seed=100 + seed)
            t0 = time.perf_counter()
            model.fit(one)
            times.append(time.perf_counter() - t0)
        out["latency_s"] = float(np.median(times))
        out["seconds"] = out["latency_s"]
    else:
        if profile:
            import cProfile
            import pstats
            prof = cProfile.Profile()
            prof.enable()
        t0 = time.perf_counter()
        model.fit(spectra)
        out["seconds"] = time.perf_counter() - t0
        if profile:
            prof.disable()
            st = pstats.Stats(prof)
            st.sort_stats("cumulative")
            rows = []
            for (fn, line, func), (cc, nc, tt, ct, _) in st.stats.items():
                rows.append((tt, ct, f"{Path(fn).name}:{line}:{func}", nc))
            rows.sort(reverse=True)
            out["profile_tottime"] = [(name, round(tt, 3), round(ct, 3), nc) for tt, ct, name, nc in rows[:12]]
    out["spectra_per_s"] = n / out["seconds"]
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def _grid_files(size: int) -> tuple[Path, Path]:
    import mrsquant as mq
    from mrsquant.basis.io import load_basis
    from mrsquant.fitting.synthetic import simulate_mrsi

    d = Path(tempfile.gettempdir()) / f"mrsquant_bench_grid{size}_{os.getuid()}"
    d.mkdir(exist_ok=True)
    s, w = d / "csi.nii.gz", d / "csi_water.nii.gz"
    if not (s.exists() and w.exists()):
        spectra, water, _ = simulate_mrsi(load_basis(BASIS), (size, size, 1), noise_sd=2.0, seed=1)
        mq.save(spectra, s)
        mq.save(water, w)
    return s, w


def run_grid(size: int, scheduler: str | None = None) -> dict:
    from mrsquant.app.mrsi import fit_maps

    s, w = _grid_files(size)
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        res = fit_maps(s, BASIS, outdir=out, mask="all", water=w, scheduler=scheduler, progress=False)
        seconds = time.perf_counter() - t0
        n_maps = len(res["paths"])
    fit = res["fit"]
    return {"voxels": int(fit.mask.sum()), "seconds": seconds, "maps": n_maps,
            "peak_rss_mb": _peak_rss_mb(), "failed": int(sum(x != "ok" for x in fit.result.status))}


def _cluster(workers: int, trim: bool):
    """LocalCluster of single-threaded worker processes; ``trim=False`` drops dask's
    MALLOC_TRIM_THRESHOLD_ from the workers' environment (docs/scale.md)."""
    import dask
    from distributed import Client, LocalCluster

    key = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
    with dask.config.set({} if trim else {key: None}):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    return cluster, Client(cluster)


def run_dask(n: int, workers: int, grid: int) -> dict:
    from mrsquant.app.distributed import fit_distributed

    model = _model()
    spectra = _challenge(n)
    model.fit(_challenge(2, seed=99))
    # the in-process reference, in this process (same code, same load, BLAS threads of this child)
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        ref = model.fit(spectra).arrays["amplitude"]
        times.append(time.perf_counter() - t0)
    out = {"n": n, "workers": workers, "inproc_seconds": min(times)}
    # unset first: once a cluster with the variable has started, later clusters of this
    # process inherit it (checked below)
    for trim in (False, True):
        tag = "trim" if trim else "notrim"
        t0 = time.perf_counter()
        cluster, client = _cluster(workers, trim)
        out[f"startup_s_{tag}"] = time.perf_counter() - t0
        try:
            env = client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_")
            if any(v is not None for v in env.values()) != trim:
                raise RuntimeError(f"workers' MALLOC_TRIM_THRESHOLD_ is {env}, expected {'set' if trim else 'unset'}")
            fit_distributed(model, _challenge(2 * workers, seed=99), client=client, chunk_size=1)  # warm
            times = []
            for _ in range(REPEATS):
                t0 = time.perf_counter()
                res = fit_distributed(model, spectra, client=client)
                times.append(time.perf_counter() - t0)
            out[f"seconds_{tag}"] = min(times)
            out[f"all_seconds_{tag}"] = times
            out[f"failed_chunks_{tag}"] = len(res.failed_chunks)
            amp = res.arrays["amplitude"]
            rel = np.abs(amp - ref).max(axis=1) / np.abs(ref).max(axis=1)
            out[f"max_rel_diff_{tag}"] = float(rel.max())
            out[f"max_rel_diff_first200_{tag}"] = float(rel[:200].max())
            out[f"median_rel_diff_{tag}"] = float(np.median(rel))
            if grid and not trim:
                g = run_grid(grid, scheduler=client.scheduler.address)
                out["grid_seconds"] = g["seconds"]
                out["grid_voxels"] = g["voxels"]
        finally:
            client.close()
            cluster.close()
    out["seconds"] = out["seconds_notrim"]
    out["spectra_per_s"] = n / out["seconds"]
    out["peak_rss_mb_client"] = _peak_rss_mb()
    return out


# ---------------------------------------------------------------------------
# driver
# ---------------------------------------------------------------------------
BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def run_cores(n: int, repeats: int = 3) -> dict:
    """Batch of ``n`` with 1 core and with every available core (``FitModel.fit(jobs=...)``),
    ``repeats`` runs each: median and range; results must be identical."""
    from mrsquant.fitting.model import available_cores

    model = _model()
    spectra = _challenge(n)
    model.fit(_challenge(1, seed=99))
    cores = available_cores()
    out = {"n": n, "cores": cores}
    ref = None
    for jobs in sorted({1, cores}):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            res = model.fit(spectra, jobs=jobs)
            times.append(time.perf_counter() - t0)
        ref = res.amplitude if ref is None else ref
        out[f"jobs{jobs}"] = {"median_s": float(np.median(times)), "min_s": float(min(times)),
                              "max_s": float(max(times)), "identical": bool(np.array_equal(ref, res.amplitude))}
    return out


def child(kind: str, *args, blas_threads: str = "default") -> dict:
    """Run one scenario in a fresh interpreter; ``blas_threads``: "default" or a number."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, *map(str, args)]
    env = dict(os.environ)
    if blas_threads != "default":
        env.update({k: str(blas_threads) for k in BLAS_ENV})
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"child {kind} {args} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine() -> str:
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{platform.node()}, {cpu}, {os.cpu_count()} cores, {mem_gb:.0f} GB RAM, "
            f"Python {sys.version.split()[0]}, numpy {np.__version__}")


def _chunks() -> tuple[int, int]:
    """(in-process chunk, dask chunk) with default options."""
    from mrsquant.app.distributed import DEFAULT_CHUNK_SIZE
    from mrsquant.fitting import FitOptions
    c = FitOptions().chunk_size
    return c, min(c, DEFAULT_CHUNK_SIZE)


def _best(results: dict) -> tuple[str, dict]:
    """The BLAS setting with the highest throughput on the largest batch."""
    n_max = max(rows[-1]["n"] for rows in results.values())
    cands = [k for k in results if results[k][-1]["n"] == n_max]
    bt = max(cands, key=lambda k: results[k][-1]["spectra_per_s"])
    return bt, results[bt][-1]


def _label(bt: str) -> str:
    return "env unset" if bt == "default" else bt


def plot(results, dask_res, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4.0), dpi=120)
    for bt, rows in results.items():
        ax.plot([r["n"] for r in rows], [r["spectra_per_s"] for r in rows], "o-",
                label=f"in-process, BLAS threads: {_label(bt)}")
    if dask_res:
        d = dask_res
        ax.plot([d["n"]], [d["n"] / d["seconds_notrim"]], "s", ms=8,
                label=f"dask LocalCluster, {d['workers']} workers x 1 thread, MALLOC_TRIM unset")
        ax.plot([d["n"]], [d["n"] / d["seconds_trim"]], "x", ms=8, mew=2,
                label=f"dask LocalCluster, {d['workers']} workers, dask's default environment")
    ax.axhline(100, color="grey", ls="--", lw=0.8, label="target 100 spectra/s")
    ax.set_xscale("log")
    ax.set_ylim(0, None)
    ax.set_xlabel("batch size (spectra)")
    ax.set_ylabel("throughput (spectra/s)")
    ax.set_title("mrsquant fit throughput (challenge-like spectra, 2048 pts)", fontsize=9)
    ax.legend(fontsize=6.5, loc="lower center")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    tmp = path.with_name(f".{path.stem}.part{os.getpid()}.png")
    fig.savefig(tmp)
    os.replace(tmp, path)
    plt.close(fig)


def section(meta, results, grid, dask_res, profile) -> str:
    best_bt, big = _best(results)
    lines = ["## Scale: throughput, MRSI grid, dask", "",
             f"{meta['date']}; {meta['machine']}; load average {meta['load_before']} before, "
             f"{meta['load_after']} after (1, 5, 15 min; the machine is shared with other test runs); "
             f"command `{meta['command']}` ({meta['wall_s']:.0f} s). Each scenario runs in a fresh process; "
             f"memory is its peak RSS. BLAS threads: OPENBLAS_NUM_THREADS/OMP_NUM_THREADS of the child "
             f"process (`FitModel.fit` itself limits BLAS to one thread with threadpoolctl).", "",
             "(a) In-process throughput, challenge datasets 1-21 cycled with fresh noise, after warm-up "
             "(batch 1: median single-spectrum latency of 5 fits):", "",
             "| BLAS threads | batch | seconds | spectra/s | peak RSS (MB) |", "|---|---|---|---|---|"]
    for bt, rows in results.items():
        for r in rows:
            lines.append(f"| {_label(bt)} | {r['n']} | {r['seconds']:.3f} | {r['spectra_per_s']:.1f} | "
                         f"{r['peak_rss_mb']:.0f} |")
    lines.append("")
    one = next((r for r in results[best_bt] if r["n"] == 1), None)
    if one:
        lines.append(f"Single-spectrum latency (BLAS threads {_label(best_bt)}): "
                     f"**{one['latency_s'] * 1e3:.0f} ms** (target <= 50 ms).")
    lines.append(f"Batch of {big['n']} (BLAS threads {_label(best_bt)}): **{big['spectra_per_s']:.1f} spectra/s** "
                 f"(target >= 100), peak RSS {big['peak_rss_mb']:.0f} MB (target < 2 GB).")
    lines.append("")
    for bt, g in grid.items():
        lines += [f"(b) MRSI grid {meta['grid']}x{meta['grid']}x1 ({g['voxels']} voxels, 2048 points, "
                  f"22 basis spectra, water reference), in-process with BLAS threads {_label(bt)}: read NIfTI-MRS "
                  f"+ fit + water scaling + {g['maps']} NIfTI maps written in **{g['seconds']:.1f} s** "
                  f"(target <= 20 s), peak RSS {g['peak_rss_mb']:.0f} MB.", ""]
    if dask_res:
        d = dask_res
        lines += [f"(c) dask LocalCluster, {d['workers']} worker processes x 1 thread (start-up not counted), "
                  f"{d['n']} spectra in chunks of {_chunks()[1]}, against {d['inproc_seconds']:.2f} s in-process "
                  f"(1 BLAS thread) in the same run; best of {REPEATS} runs each:", "",
                  "| workers' environment | seconds | spectra/s | x in-process time |", "|---|---|---|---|"]
        for tag, label in (("trim", "dask default (nanny sets MALLOC_TRIM_THRESHOLD_=65536)"),
                           ("notrim", "MALLOC_TRIM_THRESHOLD_ not set (docs/scale.md)")):
            sec = d[f"seconds_{tag}"]
            lines.append(f"| {label} | {sec:.2f} | {d['n'] / sec:.1f} | **{sec / d['inproc_seconds']:.2f}** |")
        lines.append("")
        lines.append("Target: < 2x the in-process time.")
        if "grid_seconds" in d:
            lines.append(f"The {d['grid_voxels']}-voxel grid through `fit_maps(..., scheduler=...)` (MALLOC_TRIM "
                         f"unset, maps written): {d['grid_seconds']:.1f} s.")
        lines += ["", "(d) Per-spectrum agreement of the amplitudes, dask vs in-process in the same run (max "
                  "over the metabolites of |dask - in-process| / the spectrum's largest amplitude; chunks of "
                  f"{_chunks()[1]} on dask, {_chunks()[0]} in-process): first 200 spectra max "
                  f"{d['max_rel_diff_first200_notrim']:.1e}; all {d['n']}: max {d['max_rel_diff_notrim']:.1e}, "
                  f"median {d['median_rel_diff_notrim']:.1e} (target 1e-6).", ""]
    if profile:
        lines += [f"cProfile of the in-process batch of {profile['n']} (BLAS threads "
                  f"{_label(profile['blas_threads'])}; top functions by own time in s; the profiled run took "
                  f"{profile['seconds']:.1f} s):", "",
                  "| function | own | cumulative | calls |", "|---|---|---|---|"]
        lines += [f"| `{name}` | {tt} | {ct} | {nc} |" for name, tt, ct, nc in profile["profile_tottime"]]
        lines.append("")
    lines += [f"![throughput]({PLOT.name})"]
    return "\n".join(lines)


def cores_section(c: dict, meta: dict) -> str:
    """The ``cores`` section of docs/benchmarks.md (its own machine line and load average: it is
    rerun alone with ``--cores-only`` when the machine is quiet)."""
    lines = ["## Cores: one batch on 1 core and on every core", "",
             f"{meta['date']}; {meta['machine']}; load average {meta['load_before']} before, {meta['load_after']} "
             f"after (1, 5, 15 min; other work shares the machine); command `{meta['command']}`.", "",
             f"(e) Cores: batch of {c['n']}, `FitModel.fit(jobs=1)` against `jobs={c['cores']}` (every core this "
             f"process may use; the default: chunks of 32 in forked worker processes), 3 runs each, median (range); "
             f"amplitudes identical across jobs: {all(c[k]['identical'] for k in c if k.startswith('jobs'))}:", "",
             "| cores used | seconds | spectra/s | spectra/s per core | efficiency |", "|---|---|---|---|---|"]
    base = c["jobs1"]["median_s"]
    for key in sorted((k for k in c if k.startswith("jobs")), key=lambda k: int(k[4:])):
        j, r = int(key[4:]), c[key]
        rate = c["n"] / r["median_s"]
        lines.append(f"| {j} | {r['median_s']:.2f} ({r['min_s']:.2f}-{r['max_s']:.2f}) | {rate:.1f} | "
                     f"{rate / j:.1f} | {base / r['median_s'] / j:.2f} |")
    lines.append("")
    lines.append("Targets (issue 21): >= 60 spectra/s per core; efficiency >= 0.8 from 1 to 4 cores where there are 4.")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", type=int, default=[1, 10, 100, 1000])
    ap.add_argument("--grid", type=int, default=32, help="grid edge (0: skip)")
    ap.add_argument("--workers", type=int, default=2, help="dask workers (0: skip dask)")
    ap.add_argument("--blas-threads", nargs="+", default=["default"],
                    help="in-process runs with these OPENBLAS_NUM_THREADS settings ('default': unset)")
    ap.add_argument("--default-sizes", nargs="+", type=int, default=None,
                    help="batch sizes for the 'default' BLAS run when it differs from --sizes")
    ap.add_argument("--grid-blas-threads", nargs="+", default=None,
                    help="BLAS thread settings for the grid run (default: those of --blas-threads)")
    ap.add_argument("--profile", action="store_true", help="cProfile the 100 batch (or the largest below it)")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md and the plot")
    ap.add_argument("--cores-only", action="store_true",
                    help="only (e) Cores (batch of max(--sizes)); with --write, only its section")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        fn = {"inproc": lambda n, p="0": run_inprocess(int(n), p == "1"),
              "grid": lambda s: run_grid(int(s)),
              "dask": lambda n, w, g: run_dask(int(n), int(w), int(g)),
              "cores": lambda n: run_cores(int(n))}[kind]
        print(json.dumps(fn(*rest)))
        return
    t_start = time.perf_counter()
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    if args.cores_only:
        cores = child("cores", max(args.sizes))
        text = cores_section(cores, _meta(argv, load_before, t_start, args.grid))
        print(text)
        if args.write:
            write_section("cores", text)
        return
    results = {}
    for bt in args.blas_threads:
        results[bt] = []
        sizes = args.sizes if bt == "1" or args.default_sizes is None else args.default_sizes
        for n in sorted(sizes):
            r = child("inproc", n, blas_threads=bt)
            print(bt, json.dumps(r), flush=True)
            results[bt].append(r)
    cores = child("cores", max(args.sizes))
    print(json.dumps(cores), flush=True)
    profile = None
    if args.profile:
        small = [n for n in args.sizes if 1 < n <= 100]
        if small:
            profile = child("inproc", max(small), 1, blas_threads="1")
            profile["blas_threads"] = "1"
            for row in profile["profile_tottime"]:
                print(row)
    grid = {}
    if args.grid:
        _grid_files(args.grid)   # simulate + save once, outside the timing
        for bt in (args.grid_blas_threads or args.blas_threads):
            grid[bt] = child("grid", args.grid, blas_threads=bt)
            print(bt, json.dumps(grid[bt]), flush=True)
    dask_res = None
    if args.workers:
        dask_res = child("dask", max(args.sizes), args.workers, args.grid, blas_threads="1")
        print(json.dumps(dask_res))
    meta = _meta(argv, load_before, t_start, args.grid)
    text = section(meta, results, grid, dask_res, profile)
    print(text + "\n\n" + cores_section(cores, meta))
    if args.write:
        plot(results, dask_res, PLOT)
        write_section("scale", text)
        write_section("cores", cores_section(cores, meta))


def _meta(argv, load_before: str, t_start: float, grid: int) -> dict:
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
            "load_before": load_before, "load_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "command": "python benchmarks/bench_scale.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "wall_s": time.perf_counter() - t_start, "grid": grid}


if __name__ == "__main__":
    main()
