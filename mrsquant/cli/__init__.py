"""Command line: ``main(argv=None)`` collects one small module per subcommand.

Each module defines ``add_subparser(subparsers)`` and ``run(args) -> int``.
Errors caused by the input print one line on stderr and exit with status 2;
``--debug`` shows the traceback. A closed stdout pipe (``| head``) ends quietly with 141.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from .. import __version__
from ..errors import MRSQuantError

#: subcommand modules, in the order ``--help`` lists them
SUBCOMMANDS = ("convert", "info", "preprocess", "basis", "fit", "maps", "segment", "longitudinal", "report",
               "demo")

DESCRIPTION = """\
mrsquant: quantify in-vivo 1H MR spectra.

Typical chain:  convert (vendor -> NIfTI-MRS)  ->  preprocess  ->  fit  ->  longitudinal
Every command accepts NIfTI-MRS and the vendor formats that `convert` reads.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mrsquant", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"mrsquant {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f".{name}", __name__)
        module.add_subparser(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        with _one_blas_thread():
            code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except MRSQuantError as exc:
        if args.debug:
            raise
        print(f"mrsquant {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mrsquant: interrupted", file=sys.stderr)
        return 130


def _one_blas_thread():
    """BLAS on one thread while a command runs: mrsquant's matrices are small and batched, so a
    threaded BLAS only adds synchronisation (the preprocessing's HLSVD, a 256 x 257 SVD: 30 ms on
    one thread, 70-640 ms on two threads of a busy 2-core machine). Batches use the cores through
    chunks fitted concurrently (``--jobs``) instead."""
    from threadpoolctl import threadpool_limits  # lazy: startup

    return threadpool_limits(limits=1, user_api="blas")


def _closed_pipe() -> int:
    """The reader of stdout went away (``mrsquant ... | head``): stop quietly, as a shell
    tool does (status 141 = 128 + SIGPIPE); the interpreter's final flush is sent nowhere."""

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):   # stdout replaced (e.g. by a test harness)
        pass
    return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
