"""Water-scaled concentrations (Gasparovic 2006; Near et al. 2021).

With tissue volume fractions f_t, water contents c_t (g/mL), water relaxation
R_w,t = exp(-TE/T2_t) (1 - exp(-TR/T1_t)) and metabolite relaxation
R_m = exp(-TE/T2_m) (1 - exp(-TR/T1_m)):

    [M] (mM, per litre of voxel excluding CSF) =
        (A_m / A_w) * (2 / proton_scale) * 55510 * sum_t f_t c_t R_w,t / (R_m (1 - f_csf))

A_m is the fitted amplitude in basis units (one proton of a molecule at unit
concentration has t=0 amplitude ``proton_scale``), A_w the t=0 amplitude of
the fitted water peak. See docs/quantification.md for the challenge check.
"""
from __future__ import annotations

import numpy as np

from .. import axes
from ..basis.basis import Basis
from ..fitting import FitModel
from ..spectra import Spectra
from .config import DEFAULTS, PURE_WATER_MM, WATER_PROTONS


def _relax(te_ms, tr_ms, t1_ms, t2_ms):
    r = np.exp(-te_ms / t2_ms)
    if tr_ms is not None and np.isfinite(tr_ms) and tr_ms > 0:
        r = r * (1.0 - np.exp(-tr_ms / t1_ms))
    return r


def water_concentration_mm(cfg: dict, te_ms: float, tr_ms: float | None) -> float:
    """Relaxation-corrected water concentration of the voxel (mM), CSF included."""
    tissue, water = cfg["tissue"], cfg["water"]
    total = 0.0
    for t in ("gm", "wm", "csf"):
        f = float(tissue.get(t, 0.0))
        if f == 0:
            continue
        total += f * water["content"][t] * _relax(te_ms, tr_ms, water["t1_ms"][t], water["t2_ms"][t])
    return PURE_WATER_MM * total


def metabolite_relaxation(cfg: dict, names, te_ms: float, tr_ms: float | None) -> np.ndarray:
    met = cfg["metabolite"]

    def value(key, name):
        v = met[key]
        if isinstance(v, dict):
            return float(v.get(name, v.get("default", DEFAULTS["metabolite"][key])))
        return float(v)

    return np.array([_relax(te_ms, tr_ms, value("t1_ms", n), value("t2_ms", n)) for n in names])



def water_basis(spectra: Spectra) -> Basis:
    """A one-proton water singlet at the receiver centre, on the data grid."""
    t = axes.time_axis(spectra.n_points, spectra.dwelltime_s)
    hz = axes.ppm_to_hz(4.65, spectra.spectrometer_frequency_mhz, spectra.centre_ppm)
    fid = np.exp(2j * np.pi * hz * t)
    return Basis(fids=fid[None, :], names=("H2O",), dwelltime_s=spectra.dwelltime_s,
                 spectrometer_frequency_mhz=spectra.spectrometer_frequency_mhz,
                 centre_ppm=spectra.centre_ppm, provenance={"source": "water singlet"})


def fit_water(water: Spectra) -> dict:
    """Fit the unsuppressed water peak(s) ``(N,)`` with a Voigt line (batched core).

    Returns ``area`` (t=0 amplitude of the water line), its CRLB and the FWHM in Hz.
    """

    model = FitModel(water_basis(water), ppm_range=(3.65, 5.65), baseline="poly", baseline_order=1,
                     max_shift_ppm=0.5, max_lw_hz=60.0, phase1=False)
    res = model.fit(water)
    return {
        "area": res.arrays["amplitude"][:, 0],
        "area_sd": np.sqrt(res.arrays["cov_amplitude"][:, 0, 0]),
        "fwhm_hz": res.arrays["fwhm_hz"] if np.isfinite(res.arrays["fwhm_hz"]).any()
        else np.full(len(res.names), np.nan),
        "result": res,
    }


def water_scaled(amplitude: np.ndarray, amplitude_sd: np.ndarray, names, water_area: np.ndarray,
                 cfg: dict, *, te_ms: float, tr_ms: float | None):
    """Concentrations (mM) and their CRLB ``(N, M)`` from amplitudes and water areas ``(N,)``."""
    te = float(cfg["sequence"].get("te_ms", te_ms))
    tr = cfg["sequence"].get("tr_ms", tr_ms)
    tr = None if tr is None else float(tr)
    wconc = water_concentration_mm(cfg, te, tr)
    r_m = metabolite_relaxation(cfg, names, te, tr)
    csf = float(cfg["tissue"].get("csf", 0.0))
    factor = WATER_PROTONS / float(cfg["basis"]["proton_scale"]) * wconc / (1.0 - csf)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = factor / (water_area[:, None] * r_m[None, :])
    return amplitude * k, amplitude_sd * k
