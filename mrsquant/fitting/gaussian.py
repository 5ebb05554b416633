"""Peak models of the GABA-edited literature (Gannet's conventions), beside the linear-combination fit.

* ``gaba``: one Gaussian at about 3.0 ppm plus a linear baseline on the MEGA DIFF spectrum,
  2.79-3.55 ppm (GABA+: GABA with the co-edited macromolecules at 3 ppm);
* ``gabaglx``: GABA as two Gaussians (the 2.99/3.01 ppm pair, one amplitude and width) and Glx
  as two Gaussians at about 3.71/3.79 ppm (one amplitude and width), linear baseline, 2.79-4.10 ppm;
* the reference peaks: Cr (3.0 ppm) with Cho (3.2 ppm) on the OFF spectrum, and water on the water
  reference, each a Lorentz-Gauss (pseudo-Voigt: a Lorentzian and a Gaussian of one FWHM mixed by
  ``eta``) with a linear baseline.

Areas are analytic integrals of the fitted peaks over ppm (spectrum units x ppm). Uncertainties
are fit standard errors: the Jacobian at the solution, ``cov = s^2 (J^T J)^-1`` with ``s^2`` the
residual variance, propagated to the area to first order.

Residual zero-order phase (``phase=``, Gannet's choice): the spectra need not be phased exactly.
The reference fits (``creatine`` on the OFF, ``water``) carry a zero-order phase ``phase_deg``:
the model is the absorptive peaks + baseline against ``Re(S exp(-i phase_deg))`` of the complex
spectrum, so the peak is fitted where it is absorptive and a pipeline phase error does not leak
into its area (a dispersive part integrates to ~0 but lowers the absorptive height). The DIFF fit
(``gaba``/``gabaglx``) by default takes the phase of the Cr fit on the OFF (``phase="shared"``):
DIFF = ON - OFF of sub-spectra aligned to each other, so it carries the OFF's acquisition phase,
and Cr (SNR tens of times that of GABA) fixes it far better than the small, overlapped GABA peak
could; the GABA area SE adds the phase SE of the Cr fit times the area's sensitivity to the
phase (two refits at +-1 deg). ``phase="own"`` gives the DIFF fit its own phase term (for an
ON/OFF phase mismatch left by the alignment; noisier), ``phase="none"`` the old behaviour (real
part as given). A real-valued input has no phase to fit: it is used as given. Ratios (GABA+/Cr, GABA+/water) are raw
area ratios: no relaxation, tissue, editing-efficiency or averages correction (alpha correction
belongs to the tissue correction).

Spectra come in batches ``(N, n_points)``; each row is one small nonlinear least-squares problem
(scipy ``least_squares``), a loop over N: these models have 6-10 parameters and a few hundred
points, far from the batched core's cost.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

SQRT2PI = np.sqrt(2 * np.pi)
FWHM_PER_SIGMA = 2 * np.sqrt(2 * np.log(2))


def gaussian(x, amp, center, sigma):
    return amp * np.exp(-0.5 * ((x - center) / sigma) ** 2)


def lorentz_gauss(x, amp, center, fwhm, eta):
    """Pseudo-Voigt of height ``amp``: ``eta`` Lorentzian + ``1 - eta`` Gaussian, one FWHM."""
    hw = fwhm / 2
    lor = hw ** 2 / ((x - center) ** 2 + hw ** 2)
    gau = np.exp(-4 * np.log(2) * ((x - center) / fwhm) ** 2)
    return amp * (eta * lor + (1 - eta) * gau)


def lorentz_gauss_area(amp, fwhm, eta):
    """Integral over ppm of :func:`lorentz_gauss` (Lorentzian pi*hw*amp, Gaussian amp*sigma*sqrt(2pi))."""
    return amp * (eta * np.pi * fwhm / 2 + (1 - eta) * fwhm / FWHM_PER_SIGMA * SQRT2PI)


@dataclass(frozen=True)
class PeakModel:
    """A peak model: parameter names, start/bounds as functions of the data, the curve, the area."""

    name: str
    ppm_range: tuple[float, float]
    params: tuple[str, ...]
    curve: callable
    area: callable          # params -> area of the peak of interest
    start: callable         # (x, y) -> (p0, lower, upper)


def _baseline(x, p, x_ref):
    return p[0] + p[1] * (x - x_ref)


def _gaba_curve(x, p):
    return gaussian(x, p[0], p[1], p[2]) + _baseline(x, p[3:5], 3.0)


def _gaba_start(x, y):
    win = (x > 2.9) & (x < 3.1)
    amp = max(float(np.max(y[win])) if win.any() else float(np.max(y)), 1e-12)
    span = float(np.max(np.abs(y))) or 1.0
    p0 = [amp, 3.0, 0.05, float(np.median(y)), 0.0]
    lo = [0.0, 2.92, 0.015, -10 * span, -100 * span]
    hi = [20 * span, 3.08, 0.15, 10 * span, 100 * span]
    return p0, lo, hi


def _gabaglx_curve(x, p):
    g_amp, g_c, g_s, g_d, x_amp, x_c, x_s, x_d = p[:8]
    gaba = gaussian(x, g_amp, g_c - g_d, g_s) + gaussian(x, g_amp, g_c + g_d, g_s)
    glx = gaussian(x, x_amp, x_c - x_d, x_s) + gaussian(x, x_amp, x_c + x_d, x_s)
    return gaba + glx + _baseline(x, p[8:10], 3.4)


def _gabaglx_start(x, y):
    span = float(np.max(np.abs(y))) or 1.0
    g = (x > 2.9) & (x < 3.1)
    gx = (x > 3.65) & (x < 3.85)
    g_amp = max(float(np.max(y[g])) if g.any() else span, 1e-12) / 1.5
    x_amp = max(float(np.max(y[gx])) if gx.any() else span, 1e-12) / 1.5
    p0 = [g_amp, 3.0, 0.04, 0.03, x_amp, 3.75, 0.03, 0.04, float(np.median(y)), 0.0]
    lo = [0.0, 2.92, 0.01, 0.0, 0.0, 3.68, 0.01, 0.02, -10 * span, -100 * span]
    hi = [20 * span, 3.08, 0.12, 0.08, 20 * span, 3.82, 0.10, 0.06, 10 * span, 100 * span]
    return p0, lo, hi


def _crcho_curve(x, p):
    cr_amp, cr_c, fwhm, eta, cho_amp, dc = p[:6]
    return (lorentz_gauss(x, cr_amp, cr_c, fwhm, eta) + lorentz_gauss(x, cho_amp, cr_c + dc, fwhm, eta)
            + _baseline(x, p[6:8], 3.1))


def _crcho_start(x, y):
    span = float(np.max(np.abs(y))) or 1.0
    cr = (x > 2.95) & (x < 3.1)
    cho = (x > 3.15) & (x < 3.3)
    p0 = [float(np.max(y[cr])), 3.02, 0.05, 0.5, float(np.max(y[cho])), 0.19, 0.0, 0.0]
    lo = [0.0, 2.95, 0.01, 0.0, 0.0, 0.15, -10 * span, -100 * span]
    hi = [20 * span, 3.1, 0.3, 1.0, 20 * span, 0.23, 10 * span, 100 * span]
    return p0, lo, hi


def _water_curve(x, p):
    return lorentz_gauss(x, *p[:4]) + _baseline(x, p[4:6], 4.7)


def _water_start(x, y):
    span = float(np.max(np.abs(y))) or 1.0
    c = float(x[np.argmax(y)])
    p0 = [float(np.max(y)), c, 0.06, 0.5, 0.0, 0.0]
    lo = [0.0, c - 0.2, 0.01, 0.0, -10 * span, -100 * span]
    hi = [20 * span, c + 0.2, 0.5, 1.0, 10 * span, 100 * span]
    return p0, lo, hi


MODELS = {
    "gaba": PeakModel("gaba", (2.79, 3.55), ("gaba_amp", "gaba_ppm", "gaba_sigma_ppm", "base0", "base1"),
                      _gaba_curve, lambda p: p[0] * p[2] * SQRT2PI, _gaba_start),
    "gabaglx": PeakModel("gabaglx", (2.79, 4.10),
                         ("gaba_amp", "gaba_ppm", "gaba_sigma_ppm", "gaba_half_split_ppm", "glx_amp", "glx_ppm",
                          "glx_sigma_ppm", "glx_half_split_ppm", "base0", "base1"),
                         _gabaglx_curve, lambda p: 2 * p[0] * p[2] * SQRT2PI, _gabaglx_start),
    "creatine": PeakModel("creatine", (2.72, 3.45),
                          ("cr_amp", "cr_ppm", "fwhm_ppm", "eta", "cho_amp", "cho_offset_ppm", "base0", "base1"),
                          _crcho_curve, lambda p: lorentz_gauss_area(p[0], p[2], p[3]), _crcho_start),
    "water": PeakModel("water", (4.2, 5.2), ("amp", "ppm", "fwhm_ppm", "eta", "base0", "base1"),
                       _water_curve, lambda p: lorentz_gauss_area(p[0], p[2], p[3]), _water_start),
}


def _glx_area(p):
    return 2 * p[4] * p[6] * SQRT2PI


def _gradient(fn, p, lo, hi):
    g = np.zeros(p.size)
    for k in range(p.size):
        h = 1e-6 * max(abs(p[k]), 1e-3)
        up, dn = p.copy(), p.copy()
        up[k] = min(p[k] + h, hi[k])
        dn[k] = max(p[k] - h, lo[k])
        g[k] = (fn(up) - fn(dn)) / (up[k] - dn[k]) if up[k] > dn[k] else 0.0
    return g


#: bounds of the fitted zero-order phase (deg): a residual after the pipeline's phasing
PHASE_BOUND_DEG = 60.0
PHASE_MODES = ("shared", "own", "none")


def fit_peak(ppm, spectra, model: str = "gaba", *, fit_phase: bool = False, phase_deg=None) -> dict:
    """Fit ``model`` to the real part of each spectrum, with or without a zero-order phase.

    Parameters
    ----------
    ppm : (n_points,) float ndarray
        The ppm axis of ``spectra``.
    spectra : (n_points,) or (N, n_points) complex or real ndarray
        Spectra (frequency domain).
    model : {"gaba", "gabaglx", "creatine", "water"}
    fit_phase : bool
        Fit a zero-order phase ``phase_deg`` (last parameter, bounds +-:data:`PHASE_BOUND_DEG`):
        the model is compared with ``Re(S exp(-i phase_deg))``. Ignored for real input.
    phase_deg : None, float or (N,) float
        A known phase (deg) removed before the real part is taken (``fit_phase=False``), or the
        start of the fitted one.

    Returns
    -------
    dict
        ``params`` (N, n_params), ``param_names``, ``area`` (N,), ``area_se`` (N,), the fit SE,
        ``fit`` (N, n_window) and ``ppm`` (n_window,) of the window, ``residual_sd`` (N,),
        ``phase_deg`` and ``phase_deg_se`` (N,) (the fitted phase and its SE; the given or zero
        phase with SE 0 when not fitted); ``gabaglx`` adds ``glx_area`` and ``glx_area_se``.

    Examples
    --------
    >>> x = np.linspace(4.5, 2.0, 1000)
    >>> y = gaussian(x, 2.0, 3.0, 0.04) + 0.1
    >>> out = fit_peak(x, y, "gaba")
    >>> round(float(out["area"][0]), 4), round(2.0 * 0.04 * float(SQRT2PI), 4)
    (0.2005, 0.2005)
    """
    m = MODELS[model]
    ppm = np.asarray(ppm, dtype=float)
    s_all = np.atleast_2d(spectra)
    cplx = np.iscomplexobj(s_all)
    fit_phase = bool(fit_phase and cplx)
    lo_ppm, hi_ppm = m.ppm_range
    win = (ppm >= lo_ppm) & (ppm <= hi_ppm)
    x = ppm[win]
    n = s_all.shape[0]
    ph0 = np.broadcast_to(np.asarray(0.0 if phase_deg is None else phase_deg, dtype=float), (n,))
    names = m.params + (("phase_deg",) if fit_phase else ())
    n_par = len(names)
    out = {"params": np.full((n, n_par), np.nan), "area": np.full(n, np.nan), "area_se": np.full(n, np.nan),
           "fit": np.full((n, x.size), np.nan), "residual_sd": np.full(n, np.nan), "ppm": x,
           "param_names": names, "model": model, "phase_deg": ph0.copy(), "phase_deg_se": np.zeros(n)}
    if model == "gabaglx":
        out["glx_area"] = np.full(n, np.nan)
        out["glx_area_se"] = np.full(n, np.nan)
    for i in range(n):
        yc = s_all[i, win]
        y = np.real(yc * np.exp(-1j * np.deg2rad(ph0[i]))).astype(float) if cplx else np.asarray(yc, float)
        p0, lo, hi = (np.asarray(v, dtype=float) for v in m.start(x, y))
        if fit_phase:
            p0 = np.append(p0, ph0[i])
            lo = np.append(lo, ph0[i] - PHASE_BOUND_DEG)
            hi = np.append(hi, ph0[i] + PHASE_BOUND_DEG)

            def resid(p, yc=yc):
                return m.curve(x, p[:-1]) - np.real(yc * np.exp(-1j * np.deg2rad(p[-1])))
        else:
            def resid(p, y=y):
                return m.curve(x, p) - y
        p0 = np.clip(p0, lo + 1e-12 * (hi - lo), hi - 1e-12 * (hi - lo))
        sol = least_squares(resid, p0, bounds=(lo, hi), x_scale="jac", method="trf")
        p = sol.x
        dof = max(x.size - n_par, 1)
        s2 = float(np.sum(sol.fun ** 2) / dof)
        cov = s2 * np.linalg.pinv(sol.jac.T @ sol.jac)
        g = _gradient(m.area, p, lo, hi)
        out["params"][i] = p
        out["area"][i] = m.area(p)
        out["area_se"][i] = float(np.sqrt(max(g @ cov @ g, 0.0)))
        out["fit"][i] = m.curve(x, p)
        out["residual_sd"][i] = np.sqrt(s2)
        if fit_phase:
            out["phase_deg"][i] = p[-1]
            out["phase_deg_se"][i] = float(np.sqrt(max(cov[-1, -1], 0.0)))
        if model == "gabaglx":
            gx = _gradient(_glx_area, p, lo, hi)
            out["glx_area"][i] = _glx_area(p)
            out["glx_area_se"][i] = float(np.sqrt(max(gx @ cov @ gx, 0.0)))
    return out


def _fit_with_known_phase(ppm, spectra, model, phase_deg, phase_se, step_deg: float = 1.0) -> dict:
    """:func:`fit_peak` at a phase known with SE ``phase_se`` (another fit's): the area SE adds
    ``|d area / d phase| * phase_se`` in quadrature, the slope from two refits at +-``step_deg``."""
    out = fit_peak(ppm, spectra, model, phase_deg=phase_deg)
    if not np.iscomplexobj(spectra):
        return out
    up = fit_peak(ppm, spectra, model, phase_deg=phase_deg + step_deg)
    dn = fit_peak(ppm, spectra, model, phase_deg=phase_deg - step_deg)
    keys = ("area", "glx_area") if model == "gabaglx" else ("area",)
    for k in keys:
        slope = (up[k] - dn[k]) / (2 * step_deg)
        out[k + "_se"] = np.sqrt(out[k + "_se"] ** 2 + (slope * phase_se) ** 2)
    out["phase_deg_se"] = np.broadcast_to(np.asarray(phase_se, dtype=float), out["area"].shape).copy()
    return out


def area_ratio(num, num_se, den, den_se):
    """``num / den`` and its first-order SE (independent fits)."""
    num, num_se, den, den_se = (np.asarray(v, dtype=float) for v in (num, num_se, den, den_se))
    r = num / den
    return r, np.abs(r) * np.sqrt((num_se / num) ** 2 + (den_se / den) ** 2)


def gaba_plus(ppm, diff, off, *, water=None, water_ppm=None, model: str = "gaba", phase: str = "shared") -> dict:
    """GABA+ from a MEGA DIFF spectrum, its ratio to Cr (OFF spectrum) and, with a water
    reference spectrum, to water: ``{"gaba_area", "gaba_area_se", "cr_area", "cr_area_se",
    "gaba_cr", "gaba_cr_se", "phase_deg", "phase_deg_se", "gaba_phase_deg",
    ["water_area", "water_area_se", "water_phase_deg", "gaba_water", "gaba_water_se"],
    ["glx_area", "glx_area_se"], "fits": {...}}``, each (N,).

    ``phase`` (module docstring): ``"shared"`` (default) fits a zero-order phase in the Cr fit of
    the OFF (``phase_deg``) and applies it to the DIFF, ``"own"`` fits the DIFF's phase too
    (``gaba_phase_deg``), ``"none"`` fits the real parts as given; the water fit has its own phase
    unless ``"none"``."""
    if phase not in PHASE_MODES:
        raise ValueError(f"phase must be one of {PHASE_MODES}, not {phase!r}")
    fit = phase != "none"
    cr = fit_peak(ppm, off, "creatine", fit_phase=fit)
    if phase == "shared":
        g = _fit_with_known_phase(ppm, diff, model, cr["phase_deg"], cr["phase_deg_se"])
    else:
        g = fit_peak(ppm, diff, model, fit_phase=fit, phase_deg=cr["phase_deg"])
    out = {"gaba_area": g["area"], "gaba_area_se": g["area_se"], "cr_area": cr["area"], "cr_area_se": cr["area_se"],
           "phase_deg": cr["phase_deg"], "phase_deg_se": cr["phase_deg_se"], "gaba_phase_deg": g["phase_deg"],
           "fits": {model: g, "creatine": cr}}
    out["gaba_cr"], out["gaba_cr_se"] = area_ratio(g["area"], g["area_se"], cr["area"], cr["area_se"])
    if model == "gabaglx":
        out["glx_area"], out["glx_area_se"] = g["glx_area"], g["glx_area_se"]
    if water is not None:
        w = fit_peak(ppm if water_ppm is None else water_ppm, water, "water", fit_phase=fit)
        out["fits"]["water"] = w
        out["water_area"], out["water_area_se"] = w["area"], w["area_se"]
        out["water_phase_deg"] = w["phase_deg"]
        out["gaba_water"], out["gaba_water_se"] = area_ratio(g["area"], g["area_se"], w["area"], w["area_se"])
    return out
