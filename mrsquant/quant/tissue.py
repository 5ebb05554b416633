"""CSF-corrected and GABA alpha-corrected concentrations (Near et al. 2021; Harris et al. 2015).

The fully tissue- and relaxation-corrected concentration (Gasparovic 2006) is
:func:`mrsquant.quant.water.water_scaled`. Two variants use the same amplitudes and config:

CSF-corrected (Near 2021, "water referencing with CSF correction"): one tissue water
compartment, content ``c_tis`` and relaxation ``R_w,tis`` (the GM/WM means of the config's
water values), and the CSF volume removed::

    [M]_csf = A_m / A_w * (2 / proton_scale) * 55510 * c_tis R_w,tis / (R_m (1 - f_csf))

GABA alpha correction (Harris et al. 2015, JMRI 42:1431; as in Gannet's GannetQuantify), for
MEGA-PRESS GABA+ where GABA is assumed ``alpha`` times as concentrated in WM as in GM::

    [GABA]_alpha = A_m / A_w * (2 / proton_scale) * 55510 * (mm_fraction / editing_efficiency)
                   * sum_t f_t c_t R_w,t / (R_GABA (f_GM + alpha f_WM))

and normalised to a group's mean voxel composition (mu_GM, mu_WM)::

    [GABA]_alpha,norm = [GABA]_alpha * (mu_GM + alpha mu_WM) / (mu_GM + mu_WM)

Defaults (:data:`GABA_DEFAULTS`, overridable in a ``[gaba]`` section of the quant TOML):
alpha 0.5 (GABA in GM twice WM, Harris 2015), GABA T1 1310 ms (Puts 2013), T2 88 ms
(Edden 2012); ``mm_fraction`` (GABA share of the GABA+ signal, Gannet 0.45) and
``editing_efficiency`` (Gannet 0.5 for TE 68 peak integrals) default to 1: an mrsquant fit with
a simulated MEGA-PRESS DIFF basis already carries the editing efficiency, and a basis with
its own MM component separates the co-edited macromolecules.
"""
from __future__ import annotations

import numpy as np

from .config import PURE_WATER_MM, WATER_PROTONS
from .water import _relax, metabolite_relaxation

GABA_DEFAULTS = {"alpha": 0.5, "t1_ms": 1310.0, "t2_ms": 88.0, "mm_fraction": 1.0,
                 "editing_efficiency": 1.0}


def _times(cfg, te_ms, tr_ms):
    te = float(cfg["sequence"].get("te_ms", te_ms))
    tr = cfg["sequence"].get("tr_ms", tr_ms)
    return te, (None if tr is None else float(tr))


def csf_corrected(amplitude, water_area, cfg: dict, *, r_metabolite, te_ms: float, tr_ms: float | None):
    """CSF-corrected concentrations (mM) ``(N, M)``; ``r_metabolite`` ``(M,)`` relaxation factors."""
    te, tr = _times(cfg, te_ms, tr_ms)
    w = cfg["water"]
    c_tis = (w["content"]["gm"] + w["content"]["wm"]) / 2.0
    r_tis = _relax(te, tr, (w["t1_ms"]["gm"] + w["t1_ms"]["wm"]) / 2.0,
                   (w["t2_ms"]["gm"] + w["t2_ms"]["wm"]) / 2.0)
    csf = float(cfg["tissue"].get("csf", 0.0))
    k = WATER_PROTONS / float(cfg["basis"]["proton_scale"]) * PURE_WATER_MM * c_tis * r_tis / (1.0 - csf)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(amplitude, float) * k / (np.asarray(water_area, float)[:, None]
                                                   * np.asarray(r_metabolite, float)[None, :])


def gaba_alpha_corrected(amplitude, water_area, cfg: dict, *, te_ms: float, tr_ms: float | None,
                         te_water_ms: float | None = None, tr_water_ms: float | None = None,
                         group_means=None) -> np.ndarray:
    """Alpha-corrected GABA+ (mM, GM-equivalent) ``(N,)`` from GABA amplitudes and water areas ``(N,)``.

    ``group_means`` = (mu_GM, mu_WM): also normalise to the group's mean voxel composition.
    Water relaxation uses the water scan's TE/TR when given (Gannet does), else the metabolite's.
    """
    g = {**GABA_DEFAULTS, **cfg.get("gaba", {})}
    te, tr = _times(cfg, te_ms, tr_ms)
    te_w = te if te_water_ms is None else float(te_water_ms)
    tr_w = tr if tr_water_ms is None else float(tr_water_ms)
    tissue, w = cfg["tissue"], cfg["water"]
    water = sum(float(tissue.get(t, 0.0)) * w["content"][t] * _relax(te_w, tr_w, w["t1_ms"][t], w["t2_ms"][t])
                for t in ("gm", "wm", "csf"))
    f_gm, f_wm = float(tissue.get("gm", 0.0)), float(tissue.get("wm", 0.0))
    alpha = float(g["alpha"])
    denom = _relax(te, tr, float(g["t1_ms"]), float(g["t2_ms"])) * (f_gm + alpha * f_wm)
    k = (WATER_PROTONS / float(cfg["basis"]["proton_scale"]) * PURE_WATER_MM * water
         * float(g["mm_fraction"]) / float(g["editing_efficiency"]) / denom)
    if group_means is not None:
        mu_gm, mu_wm = (float(v) for v in group_means)
        k *= (mu_gm + alpha * mu_wm) / (mu_gm + mu_wm)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(amplitude, float) * k / np.asarray(water_area, float)


#: metabolites that get the alpha correction in a MEGA-PRESS (edited) fit
ALPHA_METABOLITES = ("GABA", "GABA+")


def corrected_columns(amplitude, water_area, names, cfg: dict, *, te_ms: float, tr_ms: float | None,
                      edited: bool = False) -> dict:
    """The extra ``concentrations.tsv`` columns for known tissue fractions, ``(N, M)`` each.

    ``conc_csf_mm``: :func:`csf_corrected`; ``conc_alpha_mm``: :func:`gaba_alpha_corrected` on
    the :data:`ALPHA_METABOLITES` rows of an ``edited`` (MEGA-PRESS) fit, NaN elsewhere. The
    fully corrected value (Gasparovic) stays ``conc_mm`` (:func:`~mrsquant.quant.water.water_scaled`).
    """

    amp = np.atleast_2d(np.asarray(amplitude, float))
    area = np.atleast_1d(np.asarray(water_area, float))
    te, tr = _times(cfg, te_ms, tr_ms)
    r_m = metabolite_relaxation(cfg, names, te, tr)
    out = {"conc_csf_mm": csf_corrected(amp, area, cfg, r_metabolite=r_m, te_ms=te, tr_ms=tr),
           "conc_alpha_mm": np.full(amp.shape, np.nan)}
    if edited:
        for j, name in enumerate(names):
            if name in ALPHA_METABOLITES:
                out["conc_alpha_mm"][:, j] = gaba_alpha_corrected(amp[:, j], area, cfg, te_ms=te, tr_ms=tr)
    return out
