"""``mrsquant demo [-o OUTDIR]``: the whole chain on the shipped example data.

basis simulate -> convert + info -> preprocess -> fit (with water, report) -> longitudinal.
The example cohort is made by ``data/examples/make_example_cohort.py``.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError


def default_data_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "data" / "examples"


def add_subparser(sub):
    p = sub.add_parser("demo", help="run the whole chain on the shipped example data",
                       description="Simulate a basis, convert, preprocess, fit and analyse the shipped "
                                   "example cohort (16 participants x 2 sessions, 3T PRESS).")
    p.add_argument("-o", "--outdir", default="demo_output", help="output folder (default: demo_output)")
    p.add_argument("--data", default=None, help="example data folder (default: the repository's data/examples)")
    p.set_defaults(func=run)


def _step(title):
    print(f"\n== {title}", flush=True)


def run(args) -> int:
    from . import main  # lazy: startup

    data = Path(args.data) if args.data else default_data_dir()
    cohort = data / "cohort"
    if not cohort.is_dir():
        raise InputError(f"example data not found in {data}; run data/examples/make_example_cohort.py "
                         f"or pass --data")
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    basis = out / "basis_press_te30_3T"

    _step("1/5 simulate a PRESS TE 30 ms basis at 3T with macromolecules")
    rc = main(["basis", "simulate", "--sequence", "press", "--te", "30", "--te1", "11", "--te2", "19",
               "--field-mhz", "123.2", "--points", "1024", "--bandwidth", "2000", "--mm", "-o", str(basis)])
    if rc:
        return rc

    _step("2/5 convert an LCModel .RAW file to NIfTI-MRS and describe it")
    rc = main(["convert", str(data / "lcmodel" / "example.RAW"), "-o", str(out / "converted")])
    if rc:
        return rc
    main(["info", str(out / "converted" / "example.nii.gz")])

    svs = sorted(cohort.glob("*_svs.nii.gz"))
    refs = [p.with_name(p.name.replace("_svs", "_ref")) for p in svs]
    _step("3/5 preprocess one raw acquisition (8 transients) with its water reference")
    rc = main(["preprocess", str(svs[0]), "--water", str(refs[0]),
               "-o", str(out / "preprocessed" / svs[0].name)])
    if rc:
        return rc

    _step(f"4/5 fit all {len(svs)} spectra as one batch (preprocessing included), water scaling, report")
    rc = main(["fit", *map(str, svs), "--water", *map(str, refs), "--basis", str(basis),
               "-o", str(out / "fit"), "--report"])
    if rc:
        return rc

    _step("5/5 longitudinal: metabolite change vs HAMD-17 change")
    rc = main(["longitudinal", "--results", str(out / "fit"), "--scores", str(cohort / "scores.tsv"),
               "-o", str(out / "longitudinal")])
    if rc:
        return rc

    print(f"""
Done. Outputs in {out}/:
  basis_press_te30_3T/        simulated basis set
  converted/example.nii.gz    LCModel .RAW converted to NIfTI-MRS
  preprocessed/               one preprocessed spectrum + per-transient table
  fit/concentrations.tsv      amplitudes, CRLB, ratios to tCr, mM (water-scaled)
  fit/qc.tsv                  SNR, linewidth, fit quality, status per spectrum
  fit/report.pdf              QC report (one page per spectrum + cohort summary), fit/mrsinmrs.md
  longitudinal/               changes.tsv, tests.tsv, associations.tsv, mixed.tsv, longitudinal.pdf
  (truth for the simulated cohort: {data / 'truth.tsv'})""")
    return 0
