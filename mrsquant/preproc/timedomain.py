"""Truncation, zero-filling and apodisation of FIDs (pure, any leading shape)."""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..spectra import Spectra
from .record import add_processing


def truncate(spectra: Spectra, *, n_points: int | None = None, n_start: int = 0) -> Spectra:
    """Keep ``n_points`` points starting at ``n_start`` (dropping leading points
    removes e.g. the points before an echo top)."""
    n = spectra.n_points - n_start if n_points is None else n_points
    if n_start < 0 or n < 16 or n_start + n > spectra.n_points:
        raise InputError(f"cannot keep {n} points from {n_start} of {spectra.n_points}")
    out = spectra.with_data(spectra.data[..., n_start:n_start + n])
    return add_processing(out, "Truncation", f"kept points {n_start}-{n_start + n - 1}")


def zero_fill(spectra: Spectra, *, n_points: int | None = None, factor: int = 2) -> Spectra:
    """Pad the FIDs with zeros to ``n_points`` (default ``factor`` x the length)."""
    n = spectra.n_points * factor if n_points is None else n_points
    if n < spectra.n_points:
        raise InputError(f"zero-fill to {n} points is shorter than the data ({spectra.n_points})")
    pad = np.zeros(spectra.shape + (n - spectra.n_points,), spectra.data.dtype)
    out = spectra.with_data(np.concatenate([spectra.data, pad], axis=-1))
    return add_processing(out, "Zero-filling", f"{spectra.n_points} -> {n} points")


def apodise(spectra: Spectra, *, lb_hz: float = 0.0, gb_hz: float = 0.0) -> Spectra:
    """Exponential (``lb_hz``, Lorentzian FWHM added) and Gaussian (``gb_hz``,
    Gaussian FWHM) line broadening."""
    if lb_hz < 0 or gb_hz < 0:
        raise InputError("line broadening must be >= 0 Hz")
    t = spectra.time
    window = np.exp(-np.pi * lb_hz * t - (np.pi * gb_hz * t) ** 2 / (4 * np.log(2)))
    out = spectra.with_data(spectra.data * window)
    return add_processing(out, "Apodization", f"exponential {lb_hz:g} Hz, Gaussian {gb_hz:g} Hz")
