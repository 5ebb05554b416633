"""Speed of the QC PDF report (targets: 1 spectrum <= 3 s, 100-spectrum cohort <= 60 s).

Usage: python benchmarks/bench_report.py [--n 100] [--write]

Fits ISMRM fitting-challenge spectra once (not timed), then times
  * `mrsquant report OUTDIR` for one spectrum, as a fresh process (imports included);
  * `mrsquant report OUTDIR` for a cohort of N spectra (the 28 challenge fits repeated
    under new names, so every page carries a real fit), also as a fresh process;
  * render_report() in-process for both (warm imports).
With --write, replaces the ``report`` section of docs/benchmarks.md (machine, date, command).
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MRSQUANT_DATA", ROOT.parent / "shared" / "data"))
CH = DATA / "fitting_challenge_2016"


def fit_outdir(ids, outdir: Path) -> Path:
    from mrsquant.cli import main

    inputs = [str(CH / "datasets_text" / f"dataset{i}.txt") for i in ids]
    rc = main(["fit", *inputs, "--basis", str(CH / "basisset_text_noTMS"), "-o", str(outdir), "--quiet"])
    if rc != 0:
        raise SystemExit(f"fit failed with status {rc}")
    return outdir


def cohort_outdir(src: Path, n: int, outdir: Path) -> Path:
    """``n`` spectra: the fits in ``src`` repeated under new names (fit.nc only)."""
    import numpy as np
    import xarray as xr

    from mrsquant.fitting import open_fit, save_fit

    ds = open_fit(src)
    reps = -(-n // ds.sizes["spectrum"])
    big = xr.concat([ds] * reps, dim="spectrum").isel(spectrum=slice(0, n))
    big = big.assign_coords(spectrum=[f"sub-{k + 1:03d}" for k in range(n)])
    rng = np.random.default_rng(0)
    big["snr"] = big["snr"] * rng.uniform(0.8, 1.2, n)  # some spread for the distributions
    outdir.mkdir(parents=True, exist_ok=True)
    save_fit(big, outdir / "fit.nc")
    return outdir


def time_cli(outdir: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of `mrsquant report` in a fresh process."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mrsquant", "report", str(outdir)], check=True,
                   capture_output=True)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def time_inprocess(outdir: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of report_from_outdir with warm imports."""
    from mrsquant.qc.report import report_from_outdir

    c0 = time.process_time()
    t0 = time.perf_counter()
    report_from_outdir(outdir, outdir / "report_inprocess.pdf")
    return time.perf_counter() - t0, time.process_time() - c0


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100, help="spectra in the cohort report")
    ap.add_argument("--write", action="store_true", help="replace the report section of docs/benchmarks.md")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        one = fit_outdir([1], tmp / "one")
        many = fit_outdir(range(1, 29), tmp / "many")
        cohort = cohort_outdir(many, args.n, tmp / "cohort")
        load = os.getloadavg()[0]
        time_inprocess(one)  # warm the imports once
        res = {
            "1 spectrum, `mrsquant report` (fresh process)": (time_cli(one), 3.0),
            "1 spectrum, render_report in-process": (time_inprocess(one), 3.0),
            f"{args.n} spectra, `mrsquant report` (fresh process)": (time_cli(cohort), 60.0),
            f"{args.n} spectra, render_report in-process": (time_inprocess(cohort), 60.0),
        }
        pages = subprocess.run(["pdfinfo", str(cohort / "report.pdf")], capture_output=True,
                               text=True).stdout
        n_pages = next((ln.split()[-1] for ln in pages.splitlines() if ln.startswith("Pages:")), "?")
    lines = ["| case | wall time (s) | CPU time (s) | target (s) |", "|---|---|---|---|"]
    for case, ((t, cpu), target) in res.items():
        lines.append(f"| {case} | {t:.2f} | {cpu:.2f} | <= {target:g} {'ok' if t <= target else 'MISSED'} |")
    table = "\n".join(lines)
    print(table)
    print(f"cohort report: {n_pages} pages; load average at start {load:.1f}")
    if args.write:
        cpu = platform.processor() or platform.machine()
        try:
            cpu = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                       if ln.startswith("model name"))
        except (OSError, StopIteration):
            pass
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        text = (f"## QC report speed ({stamp})\n\n"
                f"Machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}; "
                f"load average {load:.1f} when started. "
                f"Command: `python benchmarks/bench_report.py --n {args.n} --write`. "
                f"The cohort PDF has {n_pages} pages (summary, tables, one page per spectrum, "
                f"MRSinMRS).\n\n{table}\n")
        from _docs import write_section

        write_section("report", text)      # replaces the previous run's section
        print("wrote the report section of docs/benchmarks.md")


if __name__ == "__main__":
    main()
