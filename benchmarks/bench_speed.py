"""Speed users feel (issue 21): run the pytest-benchmark suite benchmarks/test_speed.py and
report each step's median and spread with the machine line.

Usage: python benchmarks/bench_speed.py [--write] [-k EXPR]

Runs the suite in a fresh process (``pytest benchmarks/test_speed.py --benchmark-json``),
records cores, CPU model and the load average before and after, and prints a table of the
median, the min-max range and the IQR over the rounds. With --write, replaces the ``speed``
section of docs/benchmarks.md. Figures taken while the load average is above 0.5 are marked
as such in the section (other work on the machine inflates them).
Needs the ``bench`` extra (``pip install -e '.[bench]'``).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _docs import write_section  # noqa: E402

#: test name -> (what, target seconds or None)
ROWS = {
    "test_single_fit": ("single fit, in-process (challenge spectrum, 22-metabolite basis, jobs=1)", 0.050),
    "test_batch_of_100": ("batch of 100 spectra, in-process (all cores)", None),
    "test_basis_parse": ("basis parse: challenge LCModel .BASIS (no cache)", None),
    "test_basis_cache_hit": ("basis from the cache (same .BASIS, hash + .npz read)", None),
    "test_preprocessing": ("preprocessing: 8 transients + water reference (example cohort)", None),
    "test_report": ("QC report of one fit (report.pdf, in-process)", 3.0),
    "test_cli_help": ("`mrsquant --help`, fresh process", 0.5),
    "test_cli_info": ("`mrsquant info example.RAW`, fresh process", 0.4),
    "test_cli_single_fit_cached": ("`mrsquant fit` one spectrum (.RAW + .H2O, .BASIS cached), fresh process", 1.0),
}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:
        return (float("nan"),) * 3


def run_suite(extra: list[str]) -> tuple[dict, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              str(HERE / "test_speed.py"), "--benchmark-only", f"--benchmark-json={out}",
                              "--benchmark-columns=min,median,iqr,max,rounds", *extra], cwd=HERE.parent)
        wall = time.perf_counter() - t0
        if rc != 0 or not out.exists():
            raise SystemExit(f"benchmark suite failed (pytest exit {rc})")
        return json.loads(out.read_text()), wall


def fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def table(report: dict) -> str:
    lines = ["| step | median | range (min-max) | IQR | rounds | target (issue 21) |",
             "|---|---|---|---|---|---|"]
    by_name = {b["name"]: b["stats"] for b in report["benchmarks"]}
    for name, (what, target) in ROWS.items():
        st = by_name.get(name)
        if st is None:
            continue
        mark = "" if target is None else (f"<= {fmt(target)}: " + ("met" if st["median"] <= target else "**not met**"))
        lines.append(f"| {what} | {fmt(st['median'])} | {fmt(st['min'])}-{fmt(st['max'])} | {fmt(st['iqr'])} "
                     f"| {st['rounds']} | {mark} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="replace the speed section of docs/benchmarks.md")
    ap.add_argument("-k", default=None, help="pytest -k expression (a subset; --write then writes only it)")
    args = ap.parse_args(argv)
    before = load()
    report, wall = run_suite(["-k", args.k] if args.k else [])
    after = load()
    import numpy

    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    busy = "" if before[0] < 0.5 else (" The 1-minute load average was above 0.5 before the run: other work "
                                       "shared the cores and inflates these figures.")
    text = f"""## Speed users feel: single fit, batch, basis, preprocessing, report, CLI (`benchmarks/test_speed.py`)

{when}; {platform.node()}, {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, \
numpy {numpy.__version__}; load average {' '.join(f'{v:.2f}' for v in before)} before, \
{' '.join(f'{v:.2f}' for v in after)} after (1, 5, 15 min); command `python benchmarks/bench_speed.py --write` \
(pytest-benchmark {report.get('version', '?')}, {wall:.0f} s).{busy}

Each step runs several rounds (pytest-benchmark; fresh-process steps after one warm-up round, so
the basis cache is filled and the disk cache warm); median and spread over the rounds:

{table(report)}

Fresh-process steps include Python start-up and imports. The single-spectrum `mrsquant fit`
reads the .BASIS from the basis cache (docs/basis.md, "Basis cache"); the first call on a new
basis additionally pays the parse (row "basis parse").
"""
    print(text)
    if args.write:
        write_section("speed", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
