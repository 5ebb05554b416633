"""Status rules: what a person should look at before signing off a fit.

The quality numbers (SNR, linewidth, fit-quality number) are computed in the fitting layer
(:mod:`mrsquant.fitting.quality`) and re-exported here. Definitions in docs/conventions.md.
"""
from __future__ import annotations

import numpy as np

from ..fitting.quality import (  # noqa: F401
    SINGLETS,
    fit_quality,
    fit_quality_number,
    peak_height,
    reference_singlet,
    singlet_fwhm_hz,
    snr_kreis,
    snr_lcmodel,
)
from .style import is_nuisance

#: Thresholds of the status column (docs/conventions.md). Status flags are
#: advisory: they name what a person should look at before signing off.
STATUS_RULES = {
    "low_snr": 5.0,          # Kreis SNR below this
    "broad_fwhm_ppm": 0.1,   # NAA FWHM above this (Kreis 2021: > 0.1 ppm at 3T is poor)
    "poor_fit_fqn": 2.5,     # residual variance > 2.5 x noise variance ...
    "poor_fit_misfit": 0.05,  # ... and the misfit RMS above 5 % of the tallest fitted peak
    "lipid_ratio": 1.5,      # 0.9-1.5 ppm peak height above 1.5 x NAA height
    "artefact_sigma": 8.0,   # narrow residual feature above 8 noise SD
    "prior_influence": 0.5,  # an estimate more than half prior (fitting/priors.py)
    "tcr_mm": (3.0, 20.0),   # water-scaled tCr outside this range (mM)
}

#: Main metabolites: a fit in which one of these is exactly zero did not find the spectrum
MAIN_ZERO = ("tNAA", "tCr", "tCho")

#: Ratio to tCr above which an estimate is implausible for brain tissue: about twice the
#: upper end of the healthy adult range (de Graaf, In vivo NMR spectroscopy, 3rd ed.,
#: table 2.1; Govindaraju 2000). Lactate is left out (it rises in disease).
IMPLAUSIBLE_RATIO_TCR = {
    "tNAA": 3.0, "NAA": 3.0, "NAAG": 0.8, "tCho": 0.8, "GPC": 0.8, "PCh": 0.8, "mI": 2.2, "sI": 0.2,
    "Glu": 2.5, "Gln": 1.2, "Glx": 3.0, "GABA": 0.6, "GSH": 0.8, "Tau": 0.8, "Asp": 0.8, "Ala": 0.4,
    "PE": 0.6, "Asc": 0.5, "Glc": 0.8, "Gly": 0.5, "Cit": 0.3, "Ace": 0.3,
}


def _at(value, bound, span, tol=1e-3):
    return np.isfinite(value) & np.isfinite(bound) & (np.abs(value - bound) <= tol * span)


def parameters_at_bounds(theta: np.ndarray, lower: np.ndarray, upper: np.ndarray, *, group_names=(),
                         f0_mhz: float = 1.0, n_groups: int = 1, basis_names=(),
                         active: np.ndarray | None = None) -> list[str]:
    """Which nuisance parameters of each fit sit on a bound, as text (``""``: none).

    ``theta``, ``lower``, ``upper``: ``(N, T)``, ``(T,)``, ``(T,)`` in the core's layout
    (phase0, phase1, shift per group, Lorentzian width per group, Gaussian term per group,
    optional extra shift per basis spectrum). Every bound counts except the zero of one
    of the two Voigt widths: a pure Lorentzian or Gaussian line is an allowed member of
    the model (the lineshape selection chooses it); both metabolite widths zero is flagged
    (MM and lipid components have their own width, so no extra broadening is allowed).
    ``active`` ``(N, n_groups)`` bool: groups whose signal was detected; the shift and widths
    of an undetected group (e.g. lipids absent) are not determined by the data and are
    not reported.
    """
    theta = np.atleast_2d(np.asarray(theta, float))
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    span = np.where(np.isfinite(upper - lower) & (upper > lower), upper - lower, 1.0)
    g = n_groups
    short = {"metabolites": "", "macromolecules": "MM ", "lipids": "lipid "}
    gname = [short.get(k, f"{k} ") for k in (list(group_names) + ["metabolites"] * g)[:g]]
    out = []
    active = np.ones((len(theta), g), bool) if active is None else np.asarray(active, bool)
    for th, act in zip(theta, active):
        flags = []

        def check(j, label, unit, scale=1.0, lower_counts=True, sign="+"):
            if upper[j] <= lower[j]:          # fixed parameter (e.g. phase1 off)
                return
            if _at(th[j], upper[j], span[j]):
                flags.append(f"{label} at bound {upper[j] * scale:{sign}.3g} {unit}")
            elif lower_counts and _at(th[j], lower[j], span[j]):
                flags.append(f"{label} at bound {lower[j] * scale:{sign}.3g} {unit}")
        check(0, "phase0", "deg", np.rad2deg(1))
        check(1, "phase1", "deg/ppm", np.rad2deg(1))
        for k in range(g):
            if not act[k]:
                continue
            check(2 + k, f"{gname[k]}shift", "ppm", 1.0 / f0_mhz)
            jl, js = 2 + g + k, 2 + 2 * g + k
            check(jl, f"{gname[k]}Lorentzian width", "Hz", lower_counts=False, sign="")
            if upper[js] > lower[js] and _at(th[js], upper[js], span[js]):
                gauss_hz = 2.0 * np.sqrt(max(upper[js], 0.0) * np.log(2)) / np.pi
                flags.append(f"{gname[k]}Gaussian width at bound {gauss_hz:.3g} Hz")
            both_zero = _at(th[jl], lower[jl], span[jl]) and (upper[js] <= lower[js] or _at(th[js], lower[js], span[js]))
            if both_zero and not gname[k]:    # MM/lipid components carry their own width
                flags.append(f"{gname[k]}linewidth zero")
        for m, j in enumerate(range(2 + 3 * g, len(th))):
            if upper[j] > lower[j] and (_at(th[j], upper[j], span[j]) or _at(th[j], lower[j], span[j])):
                name = basis_names[m] if m < len(basis_names) else str(m)
                flags.append(f"{name} extra shift at bound")
        out.append("; ".join(flags))
    return out


def result_bounds(result) -> list[str]:
    """:func:`parameters_at_bounds` of a FitResult (empty strings when it holds no design)."""
    d = getattr(result, "design", None)
    theta = getattr(result, "arrays", {}).get("theta")
    if d is None or theta is None or getattr(d, "lower", None) is None:
        return [""] * len(result.names)
    return parameters_at_bounds(theta, d.lower, d.upper, group_names=getattr(result.model, "group_names", ()),
                                f0_mhz=d.f0_mhz, n_groups=d.n_groups, basis_names=list(result.basis_names),
                                active=_detected_groups(result, d))


def _detected_groups(result, design) -> np.ndarray | None:
    """``(N, n_groups)``: some member of the group fitted above 3 times its CRLB
    (a 2-CRLB rule picked up a lipid group in 2 of 32 lipid-free simulated spectra)."""
    a = result.arrays
    amp, cov = a.get("amplitude"), a.get("cov_amplitude")
    groups = getattr(design, "groups", None)
    if amp is None or cov is None or groups is None:
        return None
    amp = np.asarray(amp, float)
    sd = np.sqrt(np.abs(np.diagonal(np.asarray(cov), axis1=-2, axis2=-1)))
    if sd.shape != amp.shape or amp.shape[1] != len(groups):
        return None
    det = np.nan_to_num(amp) > 3.0 * np.nan_to_num(sd)
    return np.stack([det[:, np.asarray(groups) == k].any(axis=1) for k in range(design.n_groups)], axis=1)


def _var(ds, name, i, default=np.nan):
    if name not in ds:
        return default
    v = ds[name].values[i]
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


def _met(ds, var, i, met):
    if var not in ds or met not in ds["metabolite"].values:
        return np.nan
    return float(ds[var].sel(metabolite=met).values[i])


@np.errstate(divide="ignore", invalid="ignore")
def assess(ds, rules=STATUS_RULES) -> tuple[list[str], list[str]]:
    """``(status, reasons)`` per spectrum of a fit Dataset.

    ``status``: ``ok``, ``failed: ...`` (kept from the fit), or the ``;``-separated
    problems (``low SNR``, ``broad lines``, ``lipid``, ``artefact``, ``poor fit``,
    ``at bounds``, ``main metabolites zero``, ``implausible``, ``prior-dominated``).
    ``reasons``: for each problem, which criterion and the measured value
    (``SNR 3.2 < 5``; ``shift at bound -0.25 ppm``; ``Gln/tCr 2.7 > 1.2``...), empty when ok.
    Criteria and thresholds: :data:`STATUS_RULES`, docs/conventions.md.
    """
    feats = _signal_features(ds)
    statuses, reasons = [], []
    for i in range(len(feats["naa"])):
        prev = str(ds["status"].values[i]) if "status" in ds else "ok"
        if prev.startswith("failed"):
            statuses.append(prev)
            reasons.append(prev.split(":", 1)[1].strip() if ":" in prev else prev)
            continue
        flags: dict[str, list[str]] = {}

        def flag(kind, why, _flags=flags):
            _flags.setdefault(kind, []).append(why)
        _quality_flags(ds, i, feats, rules, flag)
        _estimate_flags(ds, i, rules, flag)
        statuses.append("; ".join(flags) if flags else "ok")
        reasons.append("; ".join(w for ws in flags.values() for w in ws))
    return statuses, reasons


def running_median(x: np.ndarray, size: int) -> np.ndarray:
    """Median over a centred window of odd ``size`` along the last axis, edges mirrored
    (``d c b a | a b c d``): ``scipy.ndimage.median_filter(x, size=(1, size))`` with its default
    ``mode="reflect"``, without importing scipy.ndimage (50 ms of a one-spectrum CLI fit)."""
    half = size // 2
    pad = [(0, 0)] * (x.ndim - 1) + [(half, half)]
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(x, pad, mode="symmetric"), size, axis=-1)
    return np.median(windows, axis=-1)


def _signal_features(ds) -> dict:
    """Per spectrum: NAA height, 0.9-1.5 ppm lipid height, tallest fitted peak, noise SD and the
    largest narrow residual feature (after a 9-point running median) in noise SDs."""
    ppm = ds["ppm"].values
    data = ds["data"].values
    base = ds["baseline"].values
    fit = ds["fit"].values
    noise = ds["noise_sd"].values
    naa = peak_height(data - base, ppm, 2.008)
    lip_sel = (ppm > 0.85) & (ppm < 1.5)
    lip = (data - base)[:, lip_sel].real.max(axis=1) if lip_sel.any() else np.zeros(len(naa))
    tallest = np.nanmax((fit - base).real, axis=1) if fit.size else np.zeros(len(naa))
    resid = np.abs(data - fit)
    hp = resid - running_median(resid, 9)
    return {"naa": naa, "lip": lip, "tallest": tallest, "noise": noise, "art": hp.max(axis=1) / noise}


def _quality_flags(ds, i, feats, rules, flag) -> None:
    """Spectrum quality: SNR, linewidth, lipid, artefact, fit quality, parameters at bounds."""
    naa, lip, art = feats["naa"], feats["lip"], feats["art"]
    snr = _var(ds, "snr", i)
    if not np.isfinite(snr) or snr < rules["low_snr"]:
        flag("low SNR", f"SNR {snr:.3g} < {rules['low_snr']:g}" if np.isfinite(snr) else "SNR not measurable")
    fw = _var(ds, "fwhm_ppm", i)
    if np.isfinite(fw) and fw > rules["broad_fwhm_ppm"]:
        flag("broad lines", f"FWHM {fw:.3g} ppm > {rules['broad_fwhm_ppm']:g}")
    if naa[i] > 0 and lip[i] > rules["lipid_ratio"] * naa[i]:
        flag("lipid", f"0.9-1.5 ppm peak {lip[i] / naa[i]:.3g} x NAA > {rules['lipid_ratio']:g}")
    if art[i] > rules["artefact_sigma"]:
        flag("artefact", f"narrow residual feature {art[i]:.3g} noise SD > {rules['artefact_sigma']:g}")
    fqn = _var(ds, "fqn", i)
    tallest, noise = feats["tallest"][i], feats["noise"][i]
    misfit = np.sqrt(max(fqn - 1.0, 0.0)) * noise / tallest if np.isfinite(fqn) and tallest > 0 else np.nan
    if np.isfinite(fqn) and fqn > rules["poor_fit_fqn"] and not (misfit <= rules["poor_fit_misfit"]):
        flag("poor fit", f"FQN {fqn:.3g} > {rules['poor_fit_fqn']:g}, misfit "
                         f"{100 * misfit:.3g} % of the tallest peak > {100 * rules['poor_fit_misfit']:g} %")
    bounds = str(_var(ds, "at_bounds", i, "") or "")
    if bounds and bounds != "nan":
        for b in bounds.split("; "):
            flag("at bounds", b)


def _estimate_flags(ds, i, rules, flag) -> None:
    """The estimates: main metabolites zero or undetected, implausible ratios or tCr mM, prior-dominated."""
    present = [m for m in MAIN_ZERO if "amplitude" in ds and m in ds["metabolite"].values
               and np.isfinite(_met(ds, "amplitude", i, m))]
    zero = [m for m in present if _met(ds, "amplitude", i, m) <= 0]
    if zero:
        flag("main metabolites zero", f"{', '.join(zero)} fitted as 0")
    weak = [m for m in present if m not in zero and _met(ds, "crlb_percent", i, m) > 100]
    if weak:     # not distinguishable from 0
        flag("main metabolites zero", f"{', '.join(weak)} not detected (CRLB > 100 %)")
        zero = zero + weak
    if "ratio_tcr" in ds and "tCr" not in zero:
        for m, hi in IMPLAUSIBLE_RATIO_TCR.items():
            r = _met(ds, "ratio_tcr", i, m)
            if np.isfinite(r) and r > hi:
                flag("implausible", f"{m}/tCr {r:.3g} > {hi:g}")
    tcr_mm = _met(ds, "conc_mm", i, "tCr")
    lo, hi = rules["tcr_mm"]
    if np.isfinite(tcr_mm) and not lo <= tcr_mm <= hi:
        flag("implausible", f"tCr {tcr_mm:.3g} mM outside {lo:g}-{hi:g} mM (check the water reference)")
    if "prior_influence" in ds:
        mets = [m for m in ds["metabolite"].values if not is_nuisance(str(m))]
        heavy = [f"{m} {_met(ds, 'prior_influence', i, m):.2f}" for m in mets
                 if _met(ds, "prior_influence", i, m) > rules["prior_influence"]]
        if heavy:
            flag("prior-dominated", f"prior influence > {rules['prior_influence']:g}: {', '.join(heavy)}")


def status_flags(ds, rules=STATUS_RULES) -> list[str]:
    """``ok`` or a ``;``-separated list of problems per spectrum of a fit Dataset
    (the ``status`` half of :func:`assess`)."""
    return assess(ds, rules)[0]
