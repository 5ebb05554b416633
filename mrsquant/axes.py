"""Time, frequency and ppm axes: pure functions.

Convention (see docs/conventions.md): FIDs are stored in the NIfTI-MRS sign
convention, so ``spectrum = fftshift(fft(fid))`` runs from high ppm at index 0
to low ppm at the last index. A resonance at ``ppm`` has the time signal
``exp(-2j*pi*(ppm - centre_ppm)*f0_mhz*t)``.
"""
from __future__ import annotations

import numpy as np

#: Chemical shift of water at 37 C, the default receiver centre (ppm).
WATER_PPM = 4.65


def time_axis(n_points: int, dwelltime_s: float) -> np.ndarray:
    """Sample times in seconds, starting at 0."""
    return np.arange(n_points) * dwelltime_s


def hz_axis(n_points: int, dwelltime_s: float) -> np.ndarray:
    """Offset frequency in Hz of each point of ``fftshift(fft(fid))``.

    Follows numpy's ``fftfreq``; in our sign convention the ppm of a point is
    ``centre_ppm - hz / f0_mhz``.
    """
    return np.fft.fftshift(np.fft.fftfreq(n_points, dwelltime_s))


def ppm_axis(n_points: int, dwelltime_s: float, f0_mhz: float,
             centre_ppm: float = WATER_PPM) -> np.ndarray:
    """Chemical shift (ppm) of each point of ``to_spectrum(fid)``, decreasing."""
    return centre_ppm - hz_axis(n_points, dwelltime_s) / f0_mhz


def ppm_to_hz(ppm, f0_mhz: float, centre_ppm: float = WATER_PPM):
    """Offset frequency (Hz, in the ``hz_axis`` sense) of a chemical shift."""
    return -(np.asarray(ppm) - centre_ppm) * f0_mhz


def to_spectrum(fid: np.ndarray, axis: int = -1) -> np.ndarray:
    """Spectrum of a FID (or batch of FIDs): ``fftshift(fft(fid))`` along ``axis``.

    The first point of the FID is not halved; pass a FID whose first point is
    already scaled if you need that convention.
    """
    return np.fft.fftshift(np.fft.fft(fid, axis=axis), axes=axis)


def to_fid(spectrum: np.ndarray, axis: int = -1) -> np.ndarray:
    """Inverse of :func:`to_spectrum`."""
    return np.fft.ifft(np.fft.ifftshift(spectrum, axes=axis), axis=axis)


def ppm_window(ppm: np.ndarray, ppm_range: tuple[float, float]) -> np.ndarray:
    """Boolean mask of the points with ``min(range) <= ppm <= max(range)``."""
    lo, hi = min(ppm_range), max(ppm_range)
    return (ppm >= lo) & (ppm <= hi)
