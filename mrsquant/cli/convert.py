"""``mrsquant convert INPUT... -o OUTDIR``: any readable format -> NIfTI-MRS."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ..errors import InputError


def add_subparser(sub):
    p = sub.add_parser("convert", help="convert vendor/LCModel/jMRUI/text files to NIfTI-MRS",
                       description="Convert MRS files to NIfTI-MRS (.nii.gz): Philips SDAT/SPAR and "
                                   "data/list, Siemens TWIX (.dat), RDA and DICOM, GE P-file, Bruker, Varian, UIH, "
                                   "jMRUI, LCModel .RAW/.H2O, text. The format is detected from the "
                                   "file; run `mrsquant info FILE` to see what was found. All inputs "
                                   "are read before anything is written: a bad input writes nothing.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="input files (or vendor folders)")
    p.add_argument("-o", "--outdir", required=True, help="output folder")
    p.set_defaults(func=run)


def output_name(path: Path) -> str:
    name = path.name
    for suf in (".nii.gz", ".nii"):
        if name.lower().endswith(suf):
            return name[: -len(suf)] + ".nii.gz"
    return path.stem + ".nii.gz"


def _unique_inputs(inputs: list[Path]) -> list[Path]:
    """Drop the second file of a Philips SDAT/SPAR pair given twice."""
    seen, out = set(), []
    for p in inputs:
        key = (p.parent.resolve(), p.stem) if p.suffix.lower() in (".sdat", ".spar") else p.resolve()
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def run(args) -> int:
    from ..io import (
        read_all,  # lazy: startup
        save,  # lazy: startup
    )

    inputs = _unique_inputs([Path(p) for p in args.inputs])
    # Read everything first: a bad input stops the command before anything is written.
    # A vendor file may hold several outputs (e.g. a water reference): name_ref.nii.gz.
    loaded, names = [], []
    for p in inputs:
        for k, spectra in enumerate(read_all(p)):
            base = output_name(p)
            suffix = spectra.meta.get("ConversionOutputSuffix", "") if k else ""
            loaded.append((p, spectra))
            names.append(base[: -len(".nii.gz")] + suffix + ".nii.gz")
    if len(set(names)) != len(names):
        raise InputError("two inputs would be written to the same output name; convert them separately")
    outdir = Path(args.outdir)
    created = not outdir.exists()
    outdir.mkdir(parents=True, exist_ok=True)
    # Write into a scratch folder inside OUTDIR, then move: all files or none.
    scratch = Path(tempfile.mkdtemp(prefix=".mrsquant-convert-", dir=outdir))
    try:
        written = [(path, save(spectra, scratch / name), name, spectra.meta.get("TwixMeasurement"))
                   for (path, spectra), name in zip(loaded, names)]
        for path, tmp, name, chosen in written:
            os.replace(tmp, outdir / name)
            print(f"{path} -> {outdir / name}" + (f" ({chosen})" if chosen else ""))
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        if created:
            shutil.rmtree(outdir, ignore_errors=True)
        raise
    shutil.rmtree(scratch, ignore_errors=True)
    return 0
