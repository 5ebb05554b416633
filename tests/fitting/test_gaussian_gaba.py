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


def _draws(sim, model, n=20, seed=0, phase_deg=0.0, phase="shared"):
    """``n`` noisy draws; every spectrum (DIFF, OFF, water) rotated by ``phase_deg`` (a residual
    zero-order phase shared by the acquisition) after the noise is drawn, so draws with different
    ``phase_deg`` and one seed differ by the rotation only."""
    rng = np.random.default_rng(seed)
    sd, size = sim["noise_sd"], sim["ppm"].size
    rot = np.exp(1j * np.deg2rad(phase_deg))
    outs = []
    for _ in range(n):
        outs.append(gaba_plus(sim["ppm"], rot * (sim["diff"] + np.sqrt(2) * sd * rng.standard_normal(size)),
                              rot * (sim["off"] + sd * rng.standard_normal(size)),
                              water=rot * (sim["water"] + sd * rng.standard_normal(size)), model=model,
                              phase=phase))
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
    """GABAGlx (two Gaussians for GABA), phase shared from the Cr fit (the default): GABA+/Cr and
    GABA+/water within 5 and 8 % of the truth on average (measured +3.5 % and +6.7 %, SD 7.5 %,
    mean SE 10.8 %; the Cr fit's phase is +1.8 deg off on this exactly phased simulation, the
    overlapping multiplets of 2.7-3.45 ppm, within its misfit-inflated SE of 2.0 deg; without the
    phase term -0.1 % and +3.2 %), every draw within 2 SE (the SE includes the lineshape misfit
    and the phase SE: conservative)."""
    outs = _draws(sim, "gabaglx")
    for key, tol in (("gaba_cr", 0.05), ("gaba_water", 0.08)):
        est = np.array([o[key][0] for o in outs])
        se = np.array([o[key + "_se"][0] for o in outs])
        z = (est - sim[key]) / se
        assert abs(est.mean() / sim[key] - 1) < tol, key
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


def test_fitted_phase_is_the_imposed_one(sim):
    """A zero-order phase imposed on a noiseless OFF spectrum is found by the Cr fit: the
    tolerance is the fit's own SE (about 2 deg, dominated by the misfit of the multiplets under
    Cr/Cho: the exactly phased spectrum gives +1.8 deg), and a rotation of the data moves the
    fitted phase by exactly the rotation (a residual the fit removes, not a model change)."""
    ref = fit_peak(sim["ppm"], sim["off"], "creatine", fit_phase=True)
    assert abs(ref["phase_deg"][0]) < ref["phase_deg_se"][0] < 3.0
    for imposed in (-15.0, 10.0, 15.0):
        out = fit_peak(sim["ppm"], sim["off"] * np.exp(1j * np.deg2rad(imposed)), "creatine", fit_phase=True)
        assert abs(out["phase_deg"][0] - imposed) < out["phase_deg_se"][0]
        assert abs(out["phase_deg"][0] - ref["phase_deg"][0] - imposed) < 0.05
        assert abs(out["area"][0] / ref["area"][0] - 1) < 1e-3


def test_imposed_phase_leaves_gaba_plus_unchanged(sim):
    """The same noisy draws with a 10 deg residual phase on DIFF, OFF and water: the default
    (phase shared from the Cr fit) gives the same GABA+ area and GABA+/Cr as the unphased draws,
    well within their SE; fitting the real parts as given (``phase="none"``, the old behaviour)
    loses 16 % of GABA+/Cr (measured) and leaves the truth outside 2 SE in some draws."""
    flat, tilted = _draws(sim, "gabaglx", n=8), _draws(sim, "gabaglx", n=8, phase_deg=10.0)
    for a, b in zip(flat, tilted):
        assert abs(b["gaba_area"][0] - a["gaba_area"][0]) < 0.1 * a["gaba_area_se"][0]
        assert abs(b["gaba_cr"][0] - a["gaba_cr"][0]) < 0.1 * a["gaba_cr_se"][0]
        assert abs(b["phase_deg"][0] - a["phase_deg"][0] - 10.0) < 0.05
        assert abs(b["water_phase_deg"][0] - 10.0) < 0.5
    old = np.array([o["gaba_cr"][0] for o in _draws(sim, "gabaglx", n=8, phase_deg=10.0, phase="none")])
    new = np.array([o["gaba_cr"][0] for o in tilted])
    assert old.mean() / sim["gaba_cr"] - 1 < -0.10
    assert abs(new.mean() / sim["gaba_cr"] - 1) < 0.06


def test_own_diff_phase_and_real_input(sim):
    """``phase="own"``: the DIFF fit's own phase follows a 12 deg rotation of the DIFF exactly, and
    on the exactly phased noiseless DIFF it is within 2 SE of 0 (measured -1.1 +- 1.05 deg: the
    two-Gaussian GABA misfit); a real-valued spectrum has no phase to fit and is used as given."""
    ref = fit_peak(sim["ppm"], sim["diff"], "gabaglx", fit_phase=True)
    rot = fit_peak(sim["ppm"], sim["diff"] * np.exp(1j * np.deg2rad(12.0)), "gabaglx", fit_phase=True)
    assert abs(ref["phase_deg"][0]) < 2 * ref["phase_deg_se"][0]
    assert abs(rot["phase_deg"][0] - ref["phase_deg"][0] - 12.0) < 0.05
    assert abs(rot["area"][0] / ref["area"][0] - 1) < 1e-3
    real = fit_peak(sim["ppm"], sim["diff"].real, "gabaglx", fit_phase=True)
    assert real["param_names"][-1] != "phase_deg" and real["phase_deg"][0] == 0.0
    assert abs(real["area"][0] / fit_peak(sim["ppm"], sim["diff"], "gabaglx")["area"][0] - 1) < 1e-9
