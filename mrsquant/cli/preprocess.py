"""``mrsquant preprocess INPUT [--water REF] [--ecc REF] -o OUT.nii.gz``: the consensus pipeline.

Writes ``OUT`` (NIfTI-MRS, every step listed in its ``ProcessingApplied``
header field), ``OUT_transients.tsv`` next to it (one row per transient:
``dyn, freq_shift_hz, phase_deg, rejected, weight, z_score``) and, for edited
data, ``OUT_diff`` / ``OUT_sum``. All files are written atomically.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..files import atomic_path


def add_subparser(sub):
    p = sub.add_parser("preprocess", help="coil-combine, align, average, ECC, remove water, phase, reference",
                       description="Run the consensus preprocessing pipeline (Near et al. 2021) on raw "
                                   "multi-coil / multi-transient / edited data; steps are chosen from the "
                                   "dimensions present. See docs/preprocessing.md.")
    p.add_argument("input", metavar="INPUT", help="raw MRS file (NIfTI-MRS or any format `convert` reads)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.nii.gz", help="output NIfTI-MRS file")
    p.add_argument("--water", metavar="REF", help="water reference (coil weights, ECC, output water)")
    p.add_argument("--ecc", metavar="REF", help="eddy-current reference (default: the water reference)")
    p.add_argument("--noise", metavar="FILE", help="noise scan with the same coils (enables pre-whitening)")
    p.add_argument("--edit-interleaved", type=int, metavar="N", default=None,
                   help="transients alternate between N edit conditions along dyn (MEGA-PRESS: 2)")
    for name, what in (("align", "frequency/phase alignment"), ("reject", "outlier rejection"),
                       ("ecc-correction", "eddy-current correction"), ("water-removal", "HLSVD water removal"),
                       ("phase", "zero-order phasing"), ("reference", "ppm referencing")):
        p.add_argument(f"--no-{name}", action="store_true", help=f"skip {what}")
    p.add_argument("--equal-weights", action="store_true", help="average transients with equal weights")
    p.set_defaults(func=run)


def _stem(path: Path) -> tuple[Path, str]:
    name = path.name
    for suf in (".nii.gz", ".nii"):
        if name.lower().endswith(suf):
            return path.parent, name[: -len(suf)]
    raise InputError(f"{path}: output must be a NIfTI-MRS file name ending in .nii.gz or .nii")


def write_table(df, path: Path) -> Path:
    """Write a DataFrame as TSV via a temporary file and a rename."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, sep="\t", index=False, float_format="%.6g")
    return path


def run(args) -> int:
    from ..io import load, save  # lazy: startup
    from ..preproc import preprocess  # lazy: startup

    out = Path(args.output)
    folder, stem = _stem(out)
    spectra = load(args.input)
    water = load(args.water) if args.water else None
    ecc = load(args.ecc) if args.ecc else None
    noise = load(args.noise) if args.noise else None
    result, record = preprocess(
        spectra, water=water, ecc=ecc, noise=noise, align=not args.no_align, reject=not args.no_reject,
        weighting=None if args.equal_weights else "inverse_variance",
        ecc_correction=not args.no_ecc_correction, water_removal=not args.no_water_removal,
        phase=not args.no_phase, reference=not args.no_reference, edit_interleaved=args.edit_interleaved)
    written = [save(result, out)]
    for name, s in record.edited.items():
        written.append(save(s, folder / f"{stem}_{name}.nii.gz"))
    written.append(write_table(record.transients, folder / f"{stem}_transients.tsv"))
    for st in record.steps:
        print(f"{st['Method']}: {st['Details']}")
    if not record.reference_check.get("ok", True):
        print(f"warning: {record.reference_check['message']}")
    for p in written:
        print(f"wrote {p}")
    return 0
