"""``mrsquant report FIT_OUTDIR [-o report.pdf]``: the QC report from saved fit results."""
from __future__ import annotations

from pathlib import Path


def add_subparser(sub):
    p = sub.add_parser(
        "report", help="write the QC PDF report of a fit output folder (no refitting)",
        description="Regenerate report.pdf and mrsinmrs.md from FIT_OUTDIR/fit.nc, "
                    "concentrations.tsv and qc.tsv, as written by `mrsquant fit -o FIT_OUTDIR`.")
    p.add_argument("outdir", metavar="FIT_OUTDIR", help="folder written by `mrsquant fit`")
    p.add_argument("-o", "--output", metavar="PDF",
                   help="PDF to write (default FIT_OUTDIR/report.pdf; mrsinmrs.md goes next to it)")
    p.add_argument("--crlb-limit", type=float, default=20.0, metavar="PERCENT",
                   help="relative CRLB limit for the main metabolites (default 20)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..qc.report import report_from_outdir  # lazy: startup

    out = report_from_outdir(Path(args.outdir), args.output, crlb_limit_percent=args.crlb_limit)
    print(f"wrote {out} and {out.with_name('mrsinmrs.md')}")
    return 0
