"""Run every benchmark and rewrite its section of docs/benchmarks.md (``make benchmarks``).

Each script runs in its own process with ``--write``; a failing script is reported and
the others still run (exit status 1 at the end if any failed). The machine line and
load average are printed before and after.
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: (script, extra arguments): fast ones first
SCRIPTS = (
    ("bench_speed.py", []),
    ("bench_challenge.py", []),
    ("bench_simulated.py", ["--n", "900"]),
    ("bench_lcmodel_invivo.py", []),
    ("bench_invivo.py", []),
    ("bench_basis.py", []),
    ("bench_preproc.py", []),
    ("bench_longitudinal.py", []),
    ("bench_report.py", []),
    ("bench_scale.py", []),
)


def _load() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv=None) -> int:
    only = set(argv if argv is not None else sys.argv[1:])
    print(f"{platform.node()}, {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load average {_load()}", flush=True)
    failed = []
    for script, extra in SCRIPTS:
        if only and script not in only:
            continue
        if not (HERE / script).exists():
            print(f"-- {script}: not present, skipped", flush=True)
            continue
        t0 = time.perf_counter()
        print(f"-- {script} {' '.join(extra)}", flush=True)
        rc = subprocess.call([sys.executable, str(HERE / script), *extra, "--write"], cwd=HERE)
        print(f"-- {script}: exit {rc}, {time.perf_counter() - t0:.0f} s", flush=True)
        if rc != 0:
            failed.append(script)
    print(f"load average after: {_load()}; failed: {', '.join(failed) or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
