"""What a reader of a fit must know next to its numbers (docs/fitting.md).

Pure functions of the fit Dataset; the report prints them beside the table.
"""
from __future__ import annotations

import json
import math

import numpy as np

#: above this share of its precision from the prior an estimate is prior-dominated
PRIOR_DOMINATED = 0.5

#: short-TE, unedited data cannot measure these in one spectrum (docs/fitting.md)
UNRELIABLE_SHORT_TE = {"GABA": "use MEGA-PRESS (edited GABA+)"}


def _edited(ds) -> bool:
    seq = str(ds.attrs.get("basis_sequence", "") or "").lower()
    return "mega" in seq or "hermes" in seq or "edit" in seq or "diff" in seq


def reliability_notes(ds, i: int) -> list[str]:
    """Short notes for spectrum ``i``: unmeasurable metabolites, prior-dominated estimates."""
    notes = []
    mets = [str(m) for m in ds["metabolite"].values] if "metabolite" in ds.coords else []
    te = ds.attrs.get("te_ms", math.nan)
    try:
        te = float(te)
    except (TypeError, ValueError):
        te = math.nan
    short_te = not math.isfinite(te) or te < 50.0
    if short_te and not _edited(ds):
        for name, advice in UNRELIABLE_SHORT_TE.items():
            if name in mets:
                notes.append(f"{name} not measurable in unedited short-TE data: {advice}")
    if "prior_influence" in ds:
        infl = np.asarray(ds["prior_influence"].values[i], float)
        heavy = [(m, v) for m, v in zip(mets, infl) if np.isfinite(v) and v > PRIOR_DOMINATED]
        if heavy:
            notes.append("prior-dominated: " + ", ".join(f"{m} {v:.2f}" for m, v in heavy[:6])
                         + (f" (+{len(heavy) - 6})" if len(heavy) > 6 else ""))
    opts = ds.attrs.get("model_options")
    if isinstance(opts, str):
        try:
            opts = json.loads(opts)
        except ValueError:
            opts = {}
    if isinstance(opts, dict) and opts.get("priors"):
        notes.append(f"priors on ({opts['priors']}): estimates pulled to typical values")
    return notes
