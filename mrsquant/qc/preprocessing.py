"""The preprocessing record of a spectrum as the fit stores it and the report draws it.

``preprocessing_entry`` turns a :class:`mrsquant.preproc.PreprocessRecord` into plain JSON-able
data for ``fit.nc`` (``ds.attrs['preprocessing']``); ``normalise_preprocessing`` reads any of the
accepted forms back into the arrays a report page draws.
"""
from __future__ import annotations

import json

import numpy as np

from ..axes import to_spectrum
from .style import PPM_DISPLAY


def _complex_from(obj):
    if obj is None:
        return None
    if isinstance(obj, dict):
        if "real" in obj:
            return np.asarray(obj["real"], float) + 1j * np.asarray(obj.get("imag", 0.0), float)
        return None
    arr = np.asarray(obj)
    return arr if arr.size else None


def normalise_preprocessing(entry) -> dict:
    """One spectrum's preprocessing record in the form the page draws.

    Accepts a list of NIfTI-MRS ``ProcessingApplied`` records (dicts with ``Method``,
    ``Details``...), or a dict with optional keys ``steps`` (that list),
    ``transients`` (table with columns ``dyn, freq_shift_hz, phase_deg, rejected``: a
    pandas DataFrame, a dict of columns or a list of rows), ``before`` / ``after``
    (spectra, 1-D or ``(n_transients, n_points)``, complex or ``{"real", "imag"}``)
    and ``ppm`` (their axis; default: the fit's ppm axis).

    Returns
    -------
    dict with keys ``steps`` (list of str), ``transients`` (dict of numpy columns or
    None), ``before``, ``after`` (arrays or None), ``ppm`` (array or None).
    """
    out = {"steps": [], "transients": None, "before": None, "after": None, "ppm": None}
    if entry is None:
        return out
    if hasattr(entry, "steps") and hasattr(entry, "transients") and not isinstance(entry, dict):
        entry = preprocessing_entry(entry, ppm_range=None)
    if isinstance(entry, (list, tuple)):
        entry = {"steps": list(entry)}
    if not isinstance(entry, dict):
        return out
    steps = entry.get("steps", entry.get("ProcessingApplied", [])) or []
    for rec in steps:
        if isinstance(rec, dict):
            method = rec.get("Method") or rec.get("method") or rec.get("step") or "step"
            details = rec.get("Details") or rec.get("details") or ""
            if isinstance(details, (dict, list)):
                details = json.dumps(details, default=str)
            out["steps"].append(f"{method}: {details}" if details else str(method))
        else:
            out["steps"].append(str(rec))
    tr = entry.get("transients")
    if tr is not None:
        if hasattr(tr, "to_dict") and hasattr(tr, "columns"):
            tr = {c: tr[c].to_numpy() for c in tr.columns}
        elif isinstance(tr, (list, tuple)):
            keys = tr[0].keys() if tr and isinstance(tr[0], dict) else []
            tr = {k: np.asarray([row.get(k) for row in tr]) for k in keys}
        if isinstance(tr, dict) and tr:
            n = len(next(iter(tr.values())))
            cols = {k: np.asarray(v) for k, v in tr.items()}
            cols.setdefault("dyn", np.arange(n))
            cols.setdefault("rejected", np.zeros(n, bool))
            cols["rejected"] = np.asarray(cols["rejected"]).astype(bool)
            out["transients"] = cols
    out["before"] = _complex_from(entry.get("before"))
    out["after"] = _complex_from(entry.get("after"))
    if entry.get("ppm") is not None:
        out["ppm"] = np.asarray(entry["ppm"], float)
    return out


def _spectrum_of(obj):
    """(ppm, spectra (n, P)) of a Spectra-like object, or (None, array) for arrays."""
    if obj is None:
        return None, None
    if hasattr(obj, "data") and hasattr(obj, "ppm") and hasattr(obj, "n_points"):
        spec = to_spectrum(np.asarray(obj.data).reshape(-1, obj.n_points))
        return np.asarray(obj.ppm, float), spec
    return None, np.asarray(obj)


def preprocessing_entry(record, *, ppm_range=PPM_DISPLAY) -> dict:
    """A preprocessing record as plain JSON-able data for ``ds.attrs['preprocessing']``.

    Parameters
    ----------
    record : mrsquant.preproc.PreprocessRecord or dict
        Anything with ``steps`` (ProcessingApplied list), ``transients`` (table with
        ``dyn, freq_shift_hz, phase_deg, rejected``), ``before`` / ``after``
        (:class:`~mrsquant.Spectra` or spectra arrays).
    ppm_range : (float, float) or None
        Keep only this ppm window of the before/after spectra (keeps fit.nc small);
        None keeps every point.

    Returns
    -------
    dict with ``steps``, ``transients`` (dict of lists), ``ppm``, ``before`` and
    ``after`` (``{"real": [...], "imag": [...]}``, one row per spectrum).
    """
    get = record.get if isinstance(record, dict) else (lambda k, d=None: getattr(record, k, d))
    out = {"steps": list(get("steps", []) or [])}
    tr = get("transients")
    if tr is not None and hasattr(tr, "columns"):
        tr = {c: tr[c].tolist() for c in tr.columns} if len(tr) else None
    elif isinstance(tr, dict):
        tr = {k: np.asarray(v).tolist() for k, v in tr.items()}
    if tr:
        out["transients"] = tr
    ppm = None
    for key in ("before", "after"):
        p, spec = _spectrum_of(get(key))
        if spec is None:
            continue
        ppm = p if p is not None else (np.asarray(get("ppm"), float) if get("ppm") is not None else ppm)
        spec = np.atleast_2d(spec)
        if ppm is not None and ppm_range is not None and ppm.size == spec.shape[-1]:
            keep = (ppm <= max(ppm_range)) & (ppm >= min(ppm_range))
            spec = spec[:, keep]
            out["ppm"] = ppm[keep].tolist()
        elif ppm is not None:
            out["ppm"] = ppm.tolist()
        out[key] = {"real": spec.real.tolist(), "imag": spec.imag.tolist()}
    return out
