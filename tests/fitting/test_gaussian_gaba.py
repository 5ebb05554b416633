"""Gannet-style GABA+ peak models on simulated MEGA-PRESS (TE 68, 3T; the shipped DIFF/OFF bases)
with a known answer: the truth is the integral of the noiseless GABA-only DIFF spectrum over
2.6-3.45 ppm, over that of the noiseless Cr+PCr-only OFF spectrum (Gaussian 10 Hz lines: no tails
outside the windows; the DC offset of the first point removed), and likewise for water."""
from pathlib import Path

import numpy as np
import pytest

import mrsquant as mq
from mrsquant import axes
from mrsquant.fitting.gaussian import SQRT2PI, fit_peak, gaba_plus, gaussian

BASIS = Path(__file__).parents[2] / "data" / "basis"
CONC = {"GABA": 1.5, "NAA": 12.0, "NAAG": 1.5, "Cr": 4.0, "PCr": 4.0, "GPC": 1.0, "PCh": 0.5, "Glu": 10.0,
        "Gln": 3.0, "mI": 6.0, "GSH": 1.5}
LW_HZ = 10.0
WATER = 5000.0     # water signal relative to the metabolite scale


@pytest.fixture(scope="module")
def sim():
    b = {k: mq.load_basis(BASIS / f"megapress_te68_gaba_3T_{k}") for k in ("off", "diff")}
    off = b["off"]
    n, dwell, f0 = off.fids.shape[1], off.dwelltime_s, off.spectrometer_frequency_mhz
    t = axes.time_axis(n, dwell)
    ppm = axes.ppm_axis(n, dwell, f0)
    line = np.exp(-(np.pi * LW_HZ * t) ** 2 / (4 * np.log(2)))

    def spec(kind, only=None):
        c = np.array([CONC.get(m, 0.0) if only is None or m in only else 0.0 for m in off.names])
        s = axes.to_spectrum(c @ b[kind].fids * line)
        return s - np.median(s.real[(ppm > 5.5) & (ppm < 8)])

    water_fid = WATER * np.exp(2j * np.pi * axes.ppm_to_hz(4.7, f0) * t) * line
    water = axes.to_spectrum(water_fid)
    water = water - np.median(water.real[(ppm > -2) & (ppm < 2)])      # the first point's DC offset
    d = abs(ppm[1] - ppm[0])

    def integral(s, lo, hi):
        return float(np.sum(s.real[(ppm > lo) & (ppm < hi)]) * d)
    gaba = integral(spec("diff", {"GABA"}), 2.6, 3.45)
    return {"ppm": ppm, "diff": spec("diff"), "off": spec("off"), "water": water,
            "gaba_cr": gaba / integral(spec("off", {"Cr", "PCr"}), 2.6, 3.45),
            "gaba_water": gaba / integral(water, 4.2, 5.2), "noise_sd": spec("off").real.max() / 300}


def _draws(sim, model, n=20, seed=0):
    rng = np.random.default_rng(seed)
    sd, size = sim["noise_sd"], sim["ppm"].size
    outs = []
    for _ in range(n):
        outs.append(gaba_plus(sim["ppm"], sim["diff"] + np.sqrt(2) * sd * rng.standard_normal(size),
                              sim["off"] + sd * rng.standard_normal(size),
                              water=sim["water"] + sd * rng.standard_normal(size), model=model))
    return outs


def test_gaussian_area_is_analytic():
    x = np.linspace(4.5, 2.0, 1500)
    rng = np.random.default_rng(3)
    y = gaussian(x, 2.0, 3.01, 0.035) + 0.3 - 0.1 * (x - 3) + 0.01 * rng.standard_normal(x.size)
    out = fit_peak(x, y, "gaba")
    true = 2.0 * 0.035 * SQRT2PI
    assert abs(out["area"][0] - true) < 3 * out["area_se"][0]
    assert out["area_se"][0] < 0.03 * true


def test_gabaglx_ratios_match_truth_within_their_se(sim):
    """GABAGlx (two Gaussians for GABA): GABA+/Cr and GABA+/water within 5 % of the truth on
    average (measured -0.1 % and +3.2 %, SD 7 %, mean SE 9-10 %), every draw within 2 SE (the SE includes the lineshape misfit: conservative)."""
    outs = _draws(sim, "gabaglx")
    for key in ("gaba_cr", "gaba_water"):
        est = np.array([o[key][0] for o in outs])
        se = np.array([o[key + "_se"][0] for o in outs])
        z = (est - sim[key]) / se
        assert abs(est.mean() / sim[key] - 1) < 0.05, key
        assert np.all(np.abs(z) < 2), (key, z)
        assert 0.2 < np.std(est) / np.mean(se) < 1.5, key       # SE of the right size
    assert all(np.isfinite(o["glx_area"][0]) and o["glx_area"][0] > 0 for o in outs)


def test_single_gaussian_within_its_se_and_its_bias_stated(sim):
    """Gannet's single Gaussian on the resolved GABA pseudo-doublet (no MM) overestimates the
    area by about a third (docs/fitting.md); its SE, inflated by the misfit, still covers the
    truth within 2 SE in every draw."""
    outs = _draws(sim, "gaba")
    est = np.array([o["gaba_cr"][0] for o in outs])
    se = np.array([o["gaba_cr_se"][0] for o in outs])
    assert np.all(np.abs(est - sim["gaba_cr"]) < 2 * se)
    assert 1.15 < est.mean() / sim["gaba_cr"] < 1.5
