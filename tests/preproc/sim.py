"""Simulated truth for the preprocessing tests and benchmark (known drifts, phases, noise).

The metabolite signal is the noiseless sum of the ISMRM 2016 fitting-challenge
basis (text, without the TMS reference) at dataset 1's published true
concentrations, with a Voigt line broadening. Nothing here calls the code under test.
"""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import numpy as np

from mrsquant import Spectra, axes

F0_MHZ = 123.2
DWELL_S = 1 / 4000.0
LB_LORENTZ_HZ = 2.0
LB_GAUSS_HZ = 3.0


@lru_cache(maxsize=4)
def challenge_fids(data_dir: str):
    """(names, fids) of the challenge basis, broadened."""
    from mrsquant.basis.formats import load_text_folder

    basis = load_text_folder(Path(data_dir) / "fitting_challenge_2016" / "basisset_text_noTMS")
    t = axes.time_axis(basis.n_points, basis.dwelltime_s)
    broad = np.exp(-np.pi * LB_LORENTZ_HZ * t - (np.pi * LB_GAUSS_HZ * t) ** 2 / (4 * np.log(2)))
    return basis.names, basis.fids * broad


@lru_cache(maxsize=4)
def truth_concentrations(data_dir: str) -> dict:
    path = Path(data_dir) / "fitting_challenge_2016_truth" / "answers_datasets1-21_mM.csv"
    with open(path) as fh:
        rows = {r["metabolite"]: r["dataset1"] for r in csv.DictReader(fh)}
    from mrsquant.basis.names import canonical_name
    out = {}
    for k, v in rows.items():
        if "+" in k or not v or k == "lipids":
            continue
        out[canonical_name(k)] = float(v)
    return out


def challenge_fid(data_dir, *, scale: dict | None = None) -> np.ndarray:
    """Noiseless challenge-like FID; ``scale`` multiplies named metabolites."""
    names, fids = challenge_fids(str(data_dir))
    conc = truth_concentrations(str(data_dir))
    scale = scale or {}
    amps = np.array([conc.get(n, 0.0) * scale.get(n, 1.0) for n in names])
    return amps @ fids


def spectra_of(fid, **kw) -> Spectra:
    kw.setdefault("dims", ("dyn",) if np.ndim(fid) == 2 else ())
    return Spectra(data=fid, dwelltime_s=DWELL_S, spectrometer_frequency_mhz=F0_MHZ, te_ms=30.0, **kw)


def naa_height(spectrum_real: np.ndarray, ppm: np.ndarray) -> float:
    m = axes.ppm_window(ppm, (1.9, 2.1))
    return float(spectrum_real[..., m].max(axis=-1).mean())


NOISE_PPM = (-10.0, -1.0)


def noise_sd(spectrum: np.ndarray, ppm: np.ndarray, noise_ppm=NOISE_PPM) -> float:
    """SD of the real part in a signal-free region, after removing a straight line."""
    seg = spectrum.real[axes.ppm_window(ppm, noise_ppm)]
    x = np.arange(seg.size)
    return float(np.std(seg - np.polyval(np.polyfit(x, seg, 1), x), ddof=2))


def phase_on_naa(sp: np.ndarray, ppm: np.ndarray) -> np.ndarray:
    """Spectrum turned so the NAA peak (1.9-2.1 ppm, +/-2 points) is real positive."""
    idx = np.flatnonzero(axes.ppm_window(ppm, (1.9, 2.1)))
    i = idx[np.argmax(np.abs(sp[idx]))]
    return sp * np.exp(-1j * np.angle(sp[i - 2:i + 3].sum()))


def snr(fid: np.ndarray, ppm: np.ndarray, noise_ppm=NOISE_PPM) -> float:
    """NAA peak height (real part, 1.9-2.1 ppm, after phasing NAA) / noise SD (real
    part, -10..-1 ppm, straight line removed)."""
    sp = phase_on_naa(axes.to_spectrum(fid), ppm)
    return naa_height(sp.real, ppm) / noise_sd(sp, ppm, noise_ppm)


def fwhm_hz(fid: np.ndarray, *, dwelltime_s: float = DWELL_S, f0_mhz: float = F0_MHZ,
            zero_fill: int = 8) -> float:
    """FWHM (Hz) of the real NAA peak (zero-filled, linear interpolation at half height)."""
    n = fid.shape[-1] * zero_fill
    fz = np.zeros(n, complex)
    fz[:fid.shape[-1]] = fid
    ppm = axes.ppm_axis(n, dwelltime_s, f0_mhz)
    sp = phase_on_naa(axes.to_spectrum(fz), ppm).real
    m = np.flatnonzero(axes.ppm_window(ppm, (1.9, 2.1)))
    i = m[np.argmax(sp[m])]
    half = sp[i] / 2
    lo, hi = i, i
    while sp[lo] > half:
        lo -= 1
    while sp[hi] > half:
        hi += 1
    x_lo = lo + (half - sp[lo]) / (sp[lo + 1] - sp[lo])
    x_hi = hi - 1 + (sp[hi - 1] - half) / (sp[hi - 1] - sp[hi])
    return float((x_hi - x_lo) / (n * dwelltime_s))


def drifting_transients(clean: np.ndarray, *, n: int = 64, snr_single: float = 10.0,
                        max_drift_hz: float = 8.0, max_phase_deg: float = 30.0,
                        seed: int = 0, noise_follows_drift: bool = False):
    """``n`` copies of ``clean`` with a random-walk drift, random phases and white noise
    at the given single-transient NAA SNR. Returns (drifted, drift_free, shifts_hz, phases_deg).

    With ``noise_follows_drift`` the drift is applied to signal *and* noise: white
    noise times a unit-modulus phase ramp is white noise with the same statistics,
    and the drift-free data then differ only by the drift, so a comparison of the
    two averages measures what alignment loses, not a different noise draw."""
    rng = np.random.default_rng(seed)
    npts = clean.shape[-1]
    t = axes.time_axis(npts, DWELL_S)
    ppm = axes.ppm_axis(npts, DWELL_S, F0_MHZ)
    height = naa_height(axes.to_spectrum(clean).real, ppm)
    sigma_t = height / snr_single / np.sqrt(npts)  # per real/imag component in time domain
    walk = np.cumsum(rng.normal(size=n))
    walk -= walk.mean()
    shifts = walk * max_drift_hz / np.abs(walk).max()
    phases = rng.uniform(-max_phase_deg, max_phase_deg, size=n)
    noise = sigma_t * (rng.normal(size=(n, npts)) + 1j * rng.normal(size=(n, npts)))
    free = clean[None, :] + noise
    ramp = np.exp(1j * (2 * np.pi * shifts[:, None] * t + np.deg2rad(phases)[:, None]))
    drifted = free * ramp if noise_follows_drift else clean[None, :] * ramp + noise
    return drifted, free, shifts, phases
