"""Outlier transient rejection and (weighted) averaging.

Rule for outliers (stated once, used everywhere): after alignment, each
transient's score is its mean squared difference from the complex median of
the aligned transients, inside the alignment window (0.2-4.2 ppm by default).
A transient is rejected when its robust z-score
``(score - median(score)) / (1.4826 * MAD(score))`` exceeds ``threshold``
(3 by default); only unusually *large* differences count. Each ``edit``
condition (every leading index other than ``dim``) is judged on its own.

Weighted averaging uses inverse-variance weights, the variance of a transient
being its mean squared difference from the leave-one-out mean of the others in
the same window (noise plus instability); rejected transients get weight 0.
The weights are normalised to sum to 1 per condition, so the average keeps the
scale of a single transient.
"""
from __future__ import annotations

import numpy as np

from .. import axes
from ..errors import InputError
from ..spectra import Spectra
from ._dims import axis_of, complex_median, from_second_last, to_second_last
from .align import ALIGN_PPM_RANGE
from .record import add_processing

#: robust z-score above which a transient is rejected
OUTLIER_THRESHOLD = 3.0


def _window(spectra: Spectra, ppm_range) -> np.ndarray:
    if ppm_range is None:
        return np.ones(spectra.n_points, bool)
    return axes.ppm_window(spectra.ppm, ppm_range)


def find_outliers(spectra: Spectra, *, dim: str = "dyn", ppm_range=ALIGN_PPM_RANGE,
                  threshold: float = OUTLIER_THRESHOLD) -> dict:
    """Flag transients along ``dim`` whose difference from the median is unusually large.

    Returns
    -------
    dict
        ``rejected`` (bool) and ``score`` / ``z_score`` (float) arrays of shape
        ``spectra.shape``; ``rule``: the rule in words.
    """
    ax = axis_of(spectra, dim)
    sp = axes.to_spectrum(to_second_last(spectra.data, ax))[..., _window(spectra, ppm_range)]
    med = complex_median(sp, axis=-2)[..., None, :]
    score = np.mean(np.abs(sp - med) ** 2, axis=-1)                      # (..., K)
    centre = np.median(score, axis=-1, keepdims=True)
    mad = 1.4826 * np.median(np.abs(score - centre), axis=-1, keepdims=True)
    z = (score - centre) / np.where(mad > 0, mad, np.inf)
    rejected = z > threshold
    back = lambda v: np.moveaxis(v, -1, ax)  # noqa: E731
    return {"rejected": back(rejected), "score": back(score), "z_score": back(z),
            "rule": f"robust z of mean squared difference from the median spectrum in "
                    f"{ppm_range} ppm > {threshold:g}"}


def transient_weights(spectra: Spectra, *, dim: str = "dyn", ppm_range=ALIGN_PPM_RANGE,
                      exclude: np.ndarray | None = None) -> np.ndarray:
    """Inverse-variance weights along ``dim`` (shape ``spectra.shape``, summing to 1
    per condition); ``exclude`` (bool, same shape) gets weight 0."""
    ax = axis_of(spectra, dim)
    k = spectra.shape[ax]
    sp = axes.to_spectrum(to_second_last(spectra.data, ax))[..., _window(spectra, ppm_range)]
    keep = np.ones(sp.shape[:-1], bool) if exclude is None else ~np.moveaxis(np.asarray(exclude, bool), ax, -1)
    n_keep = keep.sum(axis=-1, keepdims=True)
    if np.any(n_keep == 0):
        raise InputError("every transient of a condition was rejected; nothing to average")
    total = np.sum(sp * keep[..., None], axis=-2, keepdims=True)
    denom = np.maximum(n_keep - keep, 1)[..., None]
    loo = (total - sp * keep[..., None]) / denom
    var = np.mean(np.abs(sp - loo) ** 2, axis=-1)
    if k < 3:
        var = np.ones_like(var)
    w = np.where(keep, 1.0 / np.maximum(var, 1e-300), 0.0)
    w = w / w.sum(axis=-1, keepdims=True)
    return np.moveaxis(w, -1, ax)


def average(spectra: Spectra, *, dim: str = "dyn", weights: np.ndarray | str | None = None,
            exclude: np.ndarray | None = None, ppm_range=ALIGN_PPM_RANGE) -> tuple[Spectra, dict]:
    """Average the transients along ``dim``.

    Parameters
    ----------
    weights : None, ``"inverse_variance"`` or array of shape ``spectra.shape``
        None: equal weights over the kept transients.
    exclude : bool array of shape ``spectra.shape``, optional
        Transients left out (e.g. ``find_outliers(...)['rejected']``).

    Returns
    -------
    averaged : Spectra
        Without the ``dim`` axis.
    info : dict
        ``weights``: the normalised weights used (shape ``spectra.shape``).
    """
    ax = axis_of(spectra, dim)
    keep = np.ones(spectra.shape, bool) if exclude is None else ~np.asarray(exclude, bool)
    if isinstance(weights, str):
        if weights != "inverse_variance":
            raise InputError(f"unknown weighting {weights!r} (use 'inverse_variance' or None)")
        w = transient_weights(spectra, dim=dim, ppm_range=ppm_range, exclude=~keep)
        how = "inverse-variance weighted"
    else:
        w = np.ones(spectra.shape) if weights is None else np.broadcast_to(np.asarray(weights, float), spectra.shape)
        w = np.where(keep, w, 0.0)
        s = w.sum(axis=ax, keepdims=True)
        if np.any(s == 0):
            raise InputError("every transient of a condition was rejected; nothing to average")
        w = w / s
        how = "equal weights" if weights is None else "given weights"
    data = np.sum(spectra.data * w[..., None], axis=ax)
    dims = spectra.dims[:ax] + spectra.dims[ax + 1:]
    n_out = int((~keep).sum())
    out = spectra.replace(data=data, dims=dims)
    out = add_processing(out, "Signal averaging",
                         f"dim=DIM_{dim.upper()}, {how}, {n_out} transient(s) excluded")
    return out, {"weights": w}


def drop(spectra: Spectra, rejected: np.ndarray, *, dim: str = "dyn") -> Spectra:
    """Remove rejected transients along ``dim`` (needs the same count kept in every condition)."""
    ax = axis_of(spectra, dim)
    keep = ~np.moveaxis(np.asarray(rejected, bool), ax, -1)
    counts = keep.sum(axis=-1)
    if counts.size and np.any(counts != counts.flat[0]):
        raise InputError("conditions keep different numbers of transients; average with exclude= instead")
    data = to_second_last(spectra.data, ax)
    kept = data[keep].reshape(data.shape[:-2] + (int(counts.flat[0]), data.shape[-1]))
    return spectra.with_data(from_second_last(kept, ax))
