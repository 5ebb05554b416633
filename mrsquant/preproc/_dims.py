"""Small helpers for moving a named axis of :class:`Spectra` around."""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..spectra import Spectra


def axis_of(spectra: Spectra, dim: str) -> int:
    """Index of the named leading axis, or a clear error."""
    if dim not in spectra.dims:
        raise InputError(f"no {dim!r} dimension in data with dims {spectra.dims or '(none)'}")
    return spectra.dims.index(dim)


def to_second_last(data: np.ndarray, axis: int) -> np.ndarray:
    """Move ``axis`` to position -2 (just before the spectral axis)."""
    return np.moveaxis(data, axis, -2)


def from_second_last(data: np.ndarray, axis: int) -> np.ndarray:
    """Inverse of :func:`to_second_last`."""
    return np.moveaxis(data, -2, axis)


def complex_median(x: np.ndarray, axis: int) -> np.ndarray:
    """Median of the real and imaginary parts separately."""
    return np.median(x.real, axis=axis) + 1j * np.median(x.imag, axis=axis)
