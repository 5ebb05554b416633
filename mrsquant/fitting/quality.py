"""Fit-quality numbers of a spectrum and its fit: SNR, linewidth, fit-quality number.

Definitions in docs/conventions.md. The status rules built on them are in :mod:`mrsquant.qc.metrics`.

All functions take a leading batch axis and return one value per spectrum.
"""
from __future__ import annotations

import numpy as np

from .. import axes

#: Reference singlets for linewidth and SNR, in order of preference.
SINGLETS = (("NAA", 2.008), ("Cr", 3.027), ("PCr", 3.029), ("GPC", 3.212), ("PCh", 3.208), ("H2O", 4.65))


def peak_height(spectrum: np.ndarray, ppm: np.ndarray, centre: float, half_width: float = 0.1) -> np.ndarray:
    """Maximum of the real part within ``centre +- half_width`` ppm, ``(N,)``."""
    sel = np.abs(ppm - centre) <= half_width
    if not sel.any():
        return np.full(spectrum.shape[0], np.nan)
    return spectrum[:, sel].real.max(axis=1)


def snr_kreis(data: np.ndarray, baseline: np.ndarray, ppm: np.ndarray, noise_sd: np.ndarray,
              centre: float = 2.008) -> np.ndarray:
    """SNR as Kreis et al. 2021: NAA peak height (baseline removed) / noise SD (real part)."""
    return peak_height(data - baseline, ppm, centre) / noise_sd


def snr_lcmodel(data: np.ndarray, fit: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """LCModel-style S/N: max of (fit - baseline) / (2 * RMS of the residual), real parts."""
    resid = (data - fit).real
    rms = np.sqrt(np.mean(resid ** 2, axis=1))
    return (fit - baseline).real.max(axis=1) / (2.0 * rms)


def fit_quality_number(data: np.ndarray, fit: np.ndarray, noise_sd: np.ndarray) -> np.ndarray:
    """Residual variance / noise variance (per real component); ~1 for a perfect model."""
    r = data - fit
    return np.mean(np.abs(r) ** 2, axis=1) / 2.0 / noise_sd ** 2


def singlet_fwhm_hz(fid: np.ndarray, dwelltime_s: float, f0_mhz: float, centre_ppm: float,
                    peak_ppm: float, *, zero_fill: int = 8, search_ppm: float = 0.3) -> np.ndarray:
    """FWHM (Hz) of the real-part peak nearest ``peak_ppm`` in FIDs ``(N, P)``.

    The FIDs are zero-filled ``zero_fill`` times and the half-height crossings
    are interpolated linearly, so the result is not limited by the point
    spacing. NaN when no clear peak is found.
    """
    n, p = fid.shape
    spec = axes.to_spectrum(np.concatenate([fid, np.zeros((n, p * (zero_fill - 1)), fid.dtype)], axis=1)).real
    ppm = axes.ppm_axis(p * zero_fill, dwelltime_s, f0_mhz, centre_ppm)
    hz_step = 1.0 / (p * zero_fill * dwelltime_s)
    sel = np.nonzero(np.abs(ppm - peak_ppm) <= search_ppm)[0]
    out = np.full(n, np.nan)
    if sel.size < 3:
        return out
    seg = spec[:, sel]
    imax = np.argmax(seg, axis=1)
    top = seg[np.arange(n), imax]
    half = top / 2.0
    below = seg < half[:, None]
    idx = np.arange(sel.size)
    # last index left of the peak below half, first index right of it
    left = np.where(below & (idx[None, :] < imax[:, None]), idx[None, :], -1).max(axis=1)
    right = np.where(below & (idx[None, :] > imax[:, None]), idx[None, :], sel.size).min(axis=1)
    ok = (left >= 0) & (right < sel.size) & (top > 0)
    r = np.arange(n)
    lc, rc = np.clip(left, 0, sel.size - 2), np.clip(right, 1, sel.size - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        xl = lc + (half - seg[r, lc]) / (seg[r, lc + 1] - seg[r, lc])
        xr = rc - 1 + (half - seg[r, rc - 1]) / (seg[r, rc] - seg[r, rc - 1])
    out[ok] = ((xr - xl) * hz_step)[ok]
    return out


def reference_singlet(names) -> tuple[str, float] | None:
    """The first of :data:`SINGLETS` present in ``names``."""
    for name, pos in SINGLETS:
        if name in names:
            return name, pos
    return None


@np.errstate(divide="ignore", invalid="ignore")      # an empty spectrum gives NaN, not a warning
def fit_quality(result) -> dict:
    """SNR (both conventions), NAA FWHM and fit-quality number of a FitResult."""
    a = result.arrays
    ppm = result.ppm
    ref = reference_singlet(result.basis_names)
    ref_ppm = 2.008 if ref is None else ref[1]
    snr = snr_kreis(a["data"], a["baseline"], ppm, a["noise_sd"], centre=ref_ppm)
    fwhm_hz = a.get("fwhm_hz", np.full(len(result.names), np.nan))
    return {
        "snr": snr,
        "snr_lcmodel": snr_lcmodel(a["data"], a["fit"], a["baseline"]),
        "fwhm_hz": fwhm_hz,
        "fwhm_ppm": fwhm_hz / result.design.f0_mhz,
        "fqn": fit_quality_number(a["data"], a["fit"], a["noise_sd"]),
        "water_fwhm_hz": a.get("water_fwhm_hz", np.full(len(result.names), np.nan)),
    }
