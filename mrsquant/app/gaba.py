"""``mrsquant fit ... --gaba-model {gaba,gabaglx}``: Gannet-style GABA+ areas of MEGA-PRESS inputs
(:mod:`mrsquant.fitting.gaussian`), written as ``OUTDIR/gaba_plus.tsv`` beside the
linear-combination outputs (docs/fitting.md, docs/fit_outputs.md)."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .. import axes
from ..errors import InputError, MRSQuantError
from ..files import atomic_path
from ..fitting.gaussian import gaba_plus
from ..io import load
from ..preproc import preprocess

GABA_MODELS = ("gaba", "gabaglx")
GABA_COLUMNS = ["spectrum", "model", "gaba_area", "gaba_area_se", "cr_area", "cr_area_se", "gaba_cr",
                "gaba_cr_se", "water_area", "water_area_se", "gaba_water", "gaba_water_se", "glx_area",
                "glx_area_se", "phase_deg", "phase_deg_se", "water_phase_deg", "note"]


def edited_spectra(spectra, water=None, *, edit_align=None):
    """``(ppm, diff, off, water_spectrum or None, note)`` of a MEGA acquisition with an ``edit``
    axis (preprocessed by the consensus pipeline), frequency domain.

    The pipeline orders the edit axis OFF, ON from the edited signal itself
    (:func:`mrsquant.preproc.detect_edit_order`); when that call is not confident, ``note``
    says so (the DIFF is used as the pipeline made it)."""

    if "edit" not in spectra.dims:
        raise InputError("not an edited acquisition (no 'edit' dimension): the GABA+ model needs MEGA ON/OFF data")
    processed, record = preprocess(spectra, water=water, edit_align=edit_align)
    diff = record.edited["diff"]
    ppm = axes.ppm_axis(diff.n_points, diff.dwelltime_s, diff.spectrometer_frequency_mhz)
    d_spec = axes.to_spectrum(diff.data)
    note = ""
    det = record.info.get("edit_order")
    if det is not None and not det["confident"]:
        note = (f"ON/OFF order not confident (edited signal {det['z']:.1f} noise SD): "
                f"condition {det['on_index']} taken as ON")
    off = processed.isel(edit=0)            # the pipeline orders the edit axis OFF, ON
    w = record.water if record.water is not None else water
    w_spec = None
    if w is not None:
        w_spec = axes.to_spectrum(w.flat().mean(axis=0) if w.data.ndim > 1 else w.data)
    return ppm, d_spec, axes.to_spectrum(off.data), w_spec, note


def gaba_rows(inputs, *, model="gaba", water=None, phase="shared", edit_align=None) -> list[dict]:
    """One row per input: the GABA+ areas and ratios with fit SEs; an input that is not edited
    or cannot be read gets a row with only its ``note``. ``phase``: the residual zero-order phase
    handling of :func:`mrsquant.fitting.gaussian.gaba_plus` (default: fitted on the OFF's Cr,
    shared by the DIFF). ``edit_align``: the transient alignment of :func:`mrsquant.preproc.preprocess`
    (``None``: its default)."""

    waters = list(water or [])
    rows = []
    for i, path in enumerate(inputs):
        name = Path(path).name.split(".")[0] if str(path).endswith((".nii.gz", ".nii")) else Path(path).stem
        try:
            w = load(waters[0 if len(waters) == 1 else i]) if waters else None
            ppm, diff, off, wspec, note = edited_spectra(load(path), w, edit_align=edit_align)
            out = gaba_plus(ppm, diff, off, water=wspec, model=model, phase=phase)
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
