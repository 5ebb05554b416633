"""``mrsquant convert INPUT... -o OUTDIR``: any readable format -> NIfTI-MRS."""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError


def add_subparser(sub):
    p = sub.add_parser("convert", help="convert vendor/LCModel/jMRUI/text files to NIfTI-MRS",
                       description="Convert MRS files to NIfTI-MRS (.nii.gz). The format is detected "
                                   "from the file; run `mrsquant info FILE` to see what was found.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="input files")
    p.add_argument("-o", "--outdir", required=True, help="output folder")
    p.set_defaults(func=run)


def output_name(path: Path) -> str:
    name = path.name
    for suf in (".nii.gz", ".nii"):
        if name.lower().endswith(suf):
            return name[: -len(suf)] + ".nii.gz"
    return path.stem + ".nii.gz"


def run(args) -> int:
    from ..io import load, save

    inputs = [Path(p) for p in args.inputs]
    # Read everything first: a bad input stops the command before anything is written.
    loaded = [(p, load(p)) for p in inputs]
    names = [output_name(p) for p in inputs]
    if len(set(names)) != len(names):
        raise InputError("two inputs would be written to the same output name; convert them separately")
    outdir = Path(args.outdir)
    for (path, spectra), name in zip(loaded, names):
        out = save(spectra, outdir / name)
        print(f"{path} -> {out}")
    return 0
