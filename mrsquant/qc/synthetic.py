"""Synthetic fit results that follow docs/fit_outputs.md, for report tests and benchmarks.

The spectra are sums of Lorentzian lines at the textbook chemical shifts, so a
page drawn from them looks like a short-TE 3T brain spectrum. Nothing here is
fitted: the "fit" is the noiseless model, the "data" the model plus noise, and
the amplitudes, CRLBs and QC numbers are the values the spectra were made from.
"""
from __future__ import annotations

import json

import numpy as np

from .. import __version__
from ..axes import WATER_PPM, ppm_axis, time_axis, to_spectrum
from ..basis.names import COMBINED, present_combinations

#: metabolite -> list of (ppm, relative height) of its main lines
LINES = {
    "NAA": [(2.008, 3.0), (2.49, 0.3), (2.67, 0.3)],
    "NAAG": [(2.04, 3.0), (2.18, 0.4)],
    "Cr": [(3.027, 3.0), (3.913, 2.0)],
    "PCr": [(3.029, 3.0), (3.930, 2.0)],
    "GPC": [(3.212, 9.0), (3.60, 0.5), (4.30, 0.5)],
    "PCh": [(3.208, 9.0), (3.64, 0.5), (4.28, 0.5)],
    "mI": [(3.522, 2.0), (3.614, 2.0), (4.054, 1.0), (3.27, 1.0)],
    "Glu": [(2.04, 1.0), (2.12, 1.0), (2.35, 2.0), (3.74, 1.0)],
    "Gln": [(2.11, 1.0), (2.45, 2.0), (3.75, 1.0)],
    "GABA": [(1.89, 2.0), (2.28, 2.0), (3.01, 2.0)],
    "GSH": [(2.95, 1.0), (2.55, 1.0), (3.77, 1.0), (4.56, 0.5)],
    "Tau": [(3.25, 2.0), (3.42, 2.0)],
    "Lac": [(1.31, 3.0), (4.10, 1.0)],
    "MM09": [(0.90, 3.0)],
}
#: typical concentrations (mM) in adult grey matter
TYPICAL_MM = {"NAA": 12.0, "NAAG": 1.5, "Cr": 4.5, "PCr": 4.0, "GPC": 1.0, "PCh": 0.6,
              "mI": 7.0, "Glu": 10.0, "Gln": 3.0, "GABA": 1.2, "GSH": 1.5, "Tau": 1.5,
              "Lac": 0.8, "MM09": 4.0}


def _line_fid(t, f0_mhz, lines, lw_hz):
    phase = sum(h * np.exp(-2j * np.pi * (p - WATER_PPM) * f0_mhz * t) for p, h in lines)
    return phase * np.exp(-np.pi * lw_hz * t)


def _signals(rng, n, basis, t, ppm, f0_mhz):
    """Random linewidths and concentrations, their Lorentzian components, baseline, fit and noisy data."""
    nb, n_points = len(basis), len(t)
    lw = rng.uniform(4.0, 9.0, n)
    conc = np.array([[TYPICAL_MM[m] * rng.uniform(0.8, 1.2) for m in basis] for _ in range(n)])
    shapes = np.empty((n, nb, n_points), complex)
    for i in range(n):
        for j, m in enumerate(basis):
            w = 25.0 if m.startswith("MM") else lw[i]
            fid = _line_fid(t, f0_mhz, LINES[m], w)
            fid[0] *= 0.5
            shapes[i, j] = to_spectrum(fid) / 50.0
    components = conc[:, :, None] * shapes
    baseline = (8.0 * np.exp(-((ppm - 1.3) / 1.5) ** 2) * (1 + 0.3 * rng.standard_normal((n, 1)))
                ).astype(complex)
    fit = components.sum(axis=1) + baseline
    noise_sd = np.abs(fit.real).max(axis=1) / rng.uniform(40.0, 150.0, n)
    data = fit + noise_sd[:, None] * (rng.standard_normal((n, n_points))
                                      + 1j * rng.standard_normal((n, n_points)))

    return lw, conc, components, baseline, fit, noise_sd, data


def synthetic_fit_dataset(n_spectra: int = 1, *, n_points: int = 2048, f0_mhz: float = 123.2,
                          bandwidth_hz: float = 4000.0, seed: int = 0,
                          metabolites=tuple(LINES), failed=(), water: bool = True,
                          header: dict | None = None, preprocessing: list | None = None):
    """A Dataset laid out as ``FitResult.to_xarray()`` (docs/fit_outputs.md).

    Parameters
    ----------
    n_spectra : int
        Number of spectra (``spectrum`` coordinate ``sub-01`` ...).
    failed : iterable of int
        Indices of spectra whose fit "failed": all arrays NaN except ``data``,
        status ``failed: optimiser did not converge``.
    water : bool
        Fill ``conc_mm`` (else NaN, as without a water reference).
    header : dict, optional
        NIfTI-MRS header extension stored in ``attrs['header']`` for every spectrum.
    preprocessing : list, optional
        Stored as JSON in ``attrs['preprocessing']``.

    Returns
    -------
    xarray.Dataset
    """
    import xarray as xr  # lazy: heavy

    rng = np.random.default_rng(seed)
    dwell = 1.0 / bandwidth_hz
    t = time_axis(n_points, dwell)
    ppm = ppm_axis(n_points, dwell, f0_mhz)
    basis = [m for m in metabolites if m in LINES]
    combined = list(present_combinations(basis))
    names = basis + combined
    n = n_spectra

    lw, conc, components, baseline, fit, noise_sd, data = _signals(rng, n, basis, t, ppm, f0_mhz)
    snr_true = np.abs(fit.real).max(axis=1) / noise_sd
    low = ("GABA", "GSH", "Gln", "NAAG", "Tau", "Lac")
    crlb_b = conc * (3.0 / snr_true[:, None]) * np.array([8.0 if m in low else 1.0 for m in basis])
    amp = np.concatenate([conc] + [conc[:, [basis.index(p) for p in COMBINED[c]]].sum(1, keepdims=True)
                                   for c in combined], axis=1)
    crlb = np.concatenate([crlb_b] + [np.sqrt((crlb_b[:, [basis.index(p) for p in COMBINED[c]]] ** 2)
                                              .sum(1, keepdims=True)) for c in combined], axis=1)
    tcr = amp[:, names.index("tCr")] if "tCr" in names else np.full(n, np.nan)
    peak = np.abs(fit.real).max(axis=1)
    status = np.array(["ok"] * n, dtype=object)
    snr = peak / noise_sd
    fwhm_hz = lw.copy()
    status[snr < 45] = "low SNR"
    failed = [i for i in failed if 0 <= i < n]

    ds = xr.Dataset(
        {
            "data": (("spectrum", "ppm"), data),
            "fit": (("spectrum", "ppm"), fit),
            "baseline": (("spectrum", "ppm"), baseline),
            "components": (("spectrum", "basis_metabolite", "ppm"), components),
            "amplitude": (("spectrum", "metabolite"), amp),
            "crlb_abs": (("spectrum", "metabolite"), crlb),
            "crlb_percent": (("spectrum", "metabolite"), 100 * crlb / amp),
            "ratio_tcr": (("spectrum", "metabolite"), amp / tcr[:, None]),
            "conc_mm": (("spectrum", "metabolite"), amp if water else np.full_like(amp, np.nan)),
            "snr": ("spectrum", snr),
            "snr_lcmodel": ("spectrum", peak / (2 * noise_sd)),
            "fwhm_ppm": ("spectrum", fwhm_hz / f0_mhz),
            "fwhm_hz": ("spectrum", fwhm_hz),
            "fqn": ("spectrum", rng.uniform(0.95, 1.3, n)),
            "phase0_deg": ("spectrum", rng.uniform(-10, 10, n)),
            "phase1_deg_per_ppm": ("spectrum", rng.uniform(-2, 2, n)),
            "shift_hz": ("spectrum", rng.uniform(-3, 3, n)),
            "lw_lorentz_hz": ("spectrum", lw),
            "lw_gauss_hz": ("spectrum", np.zeros(n)),
            "status": ("spectrum", status),
        },
        coords={"spectrum": [f"sub-{i + 1:02d}" for i in range(n)], "metabolite": names,
                "basis_metabolite": basis, "ppm": ppm},
    )
    for i in failed:
        for v in ds.data_vars:
            if v not in ("data", "status"):
                ds[v][i] = np.nan
        ds["status"].values[i] = "failed: optimiser did not converge"
    hdr = header if header is not None else {
        "SpectrometerFrequency": [f0_mhz], "ResonantNucleus": ["1H"], "EchoTime": 0.03,
        "RepetitionTime": 2.0}
    ds.attrs.update(
        software_version=__version__, basis_source="synthetic Lorentzian basis",
        model_options=json.dumps({"lineshape": "voigt", "baseline": "spline", "ppm_range": [0.2, 4.2]}),
        inputs=json.dumps([f"/data/{s}.nii.gz" for s in ds.spectrum.values]),
        water_references=json.dumps([f"/data/{s}_wref.nii.gz" for s in ds.spectrum.values]
                                    if water else []),
        te_ms=30.0, tr_ms=2000.0, spectrometer_frequency_mhz=f0_mhz, nucleus="1H",
        dwelltime_s=dwell, ppm_min=0.2, ppm_max=4.2,
        header=json.dumps([hdr] * n), preprocessing=json.dumps(preprocessing or []))
    return ds
