"""``mrsquant fit ... --gaba-model {gaba,gabaglx}``: Gannet-style GABA+ areas of MEGA-PRESS inputs
(:mod:`mrsquant.fitting.gaussian`), written as ``OUTDIR/gaba_plus.tsv`` beside the
linear-combination outputs (docs/fitting.md, docs/fit_outputs.md)."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

GABA_MODELS = ("gaba", "gabaglx")
GABA_COLUMNS = ["spectrum", "model", "gaba_area", "gaba_area_se", "cr_area", "cr_area_se", "gaba_cr",
                "gaba_cr_se", "water_area", "water_area_se", "gaba_water", "gaba_water_se", "glx_area",
                "glx_area_se", "note"]


def edited_spectra(spectra, water=None):
    """``(ppm, diff, off, water_spectrum or None, note)`` of a MEGA acquisition with an ``edit``
    axis (preprocessed by the consensus pipeline), frequency domain.

    GABA (3.0 ppm) and Glx (3.75 ppm) are positive in ON - OFF. When the 2.8-3.9 ppm region of the
    pipeline's DIFF integrates negative, its ON/OFF guess was the wrong way round: the DIFF is
    negated, the other condition taken as OFF, and ``note`` says so."""
    from .. import axes
    from ..errors import InputError
    from ..preproc import preprocess

    if "edit" not in spectra.dims:
        raise InputError("not an edited acquisition (no 'edit' dimension): the GABA+ model needs MEGA ON/OFF data")
    processed, record = preprocess(spectra, water=water)
    diff = record.edited["diff"]
    ppm = axes.ppm_axis(diff.n_points, diff.dwelltime_s, diff.spectrometer_frequency_mhz)
    d_spec = axes.to_spectrum(diff.data)
    off_index, note = 0, ""                 # the pipeline orders the edit axis OFF, ON
    if np.sum(d_spec.real[(ppm > 2.8) & (ppm < 3.9)]) < 0:
        d_spec, off_index = -d_spec, 1
        note = "DIFF had negative GABA/Glx (ON/OFF order guessed the wrong way): negated"
    off = processed.isel(edit=off_index)
    w = record.water if record.water is not None else water
    w_spec = None
    if w is not None:
        w_spec = axes.to_spectrum(w.flat().mean(axis=0) if w.data.ndim > 1 else w.data)
    return ppm, d_spec, axes.to_spectrum(off.data), w_spec, note


def gaba_rows(inputs, *, model="gaba", water=None) -> list[dict]:
    """One row per input: the GABA+ areas and ratios with fit SEs; an input that is not edited
    or cannot be read gets a row with only its ``note``."""
    from ..errors import MRSQuantError
    from ..fitting.gaussian import gaba_plus
    from ..io import load

    waters = list(water or [])
    rows = []
    for i, path in enumerate(inputs):
        name = Path(path).name.split(".")[0] if str(path).endswith((".nii.gz", ".nii")) else Path(path).stem
        try:
            w = load(waters[0 if len(waters) == 1 else i]) if waters else None
            ppm, diff, off, wspec, note = edited_spectra(load(path), w)
            out = gaba_plus(ppm, diff, off, water=wspec, model=model)
        except MRSQuantError as exc:
            rows.append({"spectrum": name, "model": model, "note": str(exc)})
            continue
        row = {"spectrum": name, "model": model, "note": note}
        for c in GABA_COLUMNS:
            if c in out:
                row[c] = float(np.ravel(out[c])[0])
        rows.append(row)
    return rows


def write_gaba_table(rows, path) -> Path:
    from ..files import atomic_path

    def cell(v):
        if v is None:
            return ""
        if isinstance(v, str):
            return v
        return f"{v:.6g}" if np.isfinite(v) else ""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(GABA_COLUMNS)
        for r in rows:
            w.writerow([cell(r.get(c)) for c in GABA_COLUMNS])
    return path
