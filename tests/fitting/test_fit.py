"""Fitting core: simulated spectra with known parameters, then the challenge truth."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mrsquant as mq
from mrsquant import axes
from mrsquant.basis.io import load_basis
from mrsquant.fitting import FitModel
from mrsquant.fitting._core import nnls_normal


@pytest.fixture(scope="module")
def basis(challenge):
    return load_basis(challenge / "basisset_text_noTMS")


def simulate(basis, amps, *, n=1, shift_hz=1.5, lw_hz=4.0, phase_deg=20.0, noise_sd=0.0, seed=0):
    """Known-truth spectra: basis combination, Lorentzian broadening, shift, phase, white noise."""
    t = axes.time_axis(basis.n_points, basis.dwelltime_s)
    mod = np.exp(-2j * np.pi * shift_hz * t - np.pi * lw_hz * t)
    fid = (amps @ basis.fids) * mod * np.exp(1j * np.deg2rad(phase_deg))
    rng = np.random.default_rng(seed)
    data = fid[None, :] + noise_sd * (rng.standard_normal((n, t.size)) + 1j * rng.standard_normal((n, t.size)))
    return mq.Spectra(data=data, dims=("dyn",), dwelltime_s=basis.dwelltime_s,
                      spectrometer_frequency_mhz=basis.spectrometer_frequency_mhz, te_ms=30)


def truth_amplitudes(basis):
    typical = {"NAA": 12.0, "NAAG": 1.5, "Cr": 5.0, "PCr": 4.0, "GPC": 1.0, "PCh": 0.6, "Glu": 10.0,
               "Gln": 3.0, "mI": 6.0, "GSH": 2.0, "Tau": 1.5, "GABA": 1.5, "Mac": 10.0, "Lac": 0.5,
               "Asp": 2.0, "sI": 0.3, "Gly": 1.0, "PE": 1.5}
    return np.array([typical.get(n, 0.0) for n in basis.names])


def test_batched_nnls_matches_scipy():
    from scipy.optimize import nnls
    rng = np.random.default_rng(1)
    a = rng.normal(size=(6, 40, 8))
    y = rng.normal(size=(6, 40))
    h = np.einsum("nri,nrj->nij", a, a)
    b = np.einsum("nri,nr->ni", a, y)
    x, _ = nnls_normal(h, b, 8)
    for i in range(6):
        ref, _ = nnls(a[i], y[i])
        assert np.allclose(x[i], ref, atol=1e-8)


def test_noiseless_recovery(basis):
    amps = truth_amplitudes(basis)
    s = simulate(basis, amps)
    r = FitModel(basis, baseline_stiffness=1e3).fit(s)
    for name in ("NAA", "Cr", "PCr", "Glu", "mI", "GPC", "Mac"):
        est = r.get(name)[0]
        assert est == pytest.approx(amps[basis.names.index(name)], rel=0.02), name
    theta = r.theta[0]
    assert np.rad2deg(theta[0]) == pytest.approx(20.0, abs=1.0)
    assert theta[2] == pytest.approx(1.5, abs=0.1)         # metabolite shift (Hz)


def test_crlb_is_honest(basis):
    """Empirical SD over noise realisations vs mean reported CRLB (Cramer-Rao)."""
    amps = truth_amplitudes(basis)
    s = simulate(basis, amps, n=48, noise_sd=6.0, seed=3)
    r = FitModel(basis).fit(s)
    for name in ("tNAA", "tCr", "Glx", "mI"):
        i = r.metabolites.index(name)
        ratio = np.std(r.amplitude[:, i], ddof=1) / np.mean(r.crlb_abs[:, i])
        # 48 samples: the SD itself has ~10 % sampling error; allow 0.7-1.4
        assert 0.7 < ratio < 1.4, (name, ratio)


def test_low_snr_amplitudes_nearly_unbiased(basis):
    """Absolute amplitudes at NAA SNR 15 with Voigt lines (Lorentzian 4 Hz + Gaussian 1.5 Hz).

    A Voigt-only fit moves width into the Gaussian term at low SNR and reads the
    amplitudes low (here -3.4 % tCr, -1.8 % tNAA without priors); the Akaike-weighted
    Voigt/Lorentzian average removes most of that (docs/fitting.md). 120 noise
    realisations, fixed seed: the mean's standard error is ~0.7 %, so a 2 %
    bound leaves room for it and fails on the Voigt-only fit.
    """
    amps = truth_amplitudes(basis)
    t = axes.time_axis(basis.n_points, basis.dwelltime_s)
    s_g = (np.pi * 1.5 / 2) ** 2 / np.log(2)
    fid = (amps @ basis.fids) * np.exp(-np.pi * 4.0 * t - s_g * t * t)
    naa_height = axes.to_spectrum(fid)[np.abs(basis.ppm - 2.01) < 0.05].real.max()
    sd_time = naa_height / 15.0 / np.sqrt(t.size)
    rng = np.random.default_rng(21)
    data = fid + sd_time * (rng.standard_normal((120, t.size)) + 1j * rng.standard_normal((120, t.size)))
    s = mq.Spectra(data=data, dims=("dyn",), dwelltime_s=basis.dwelltime_s,
                   spectrometer_frequency_mhz=basis.spectrometer_frequency_mhz, te_ms=30)
    truth = {"tCr": amps[basis.names.index("Cr")] + amps[basis.names.index("PCr")],
             "tNAA": amps[basis.names.index("NAA")] + amps[basis.names.index("NAAG")]}

    def bias(result, name):
        return np.mean(result.amplitude[:, result.metabolites.index(name)]) / truth[name] - 1

    r = FitModel(basis).fit(s)
    voigt_only = FitModel(basis, lineshape_selection=False).fit(s)
    for name in truth:
        assert abs(bias(r, name)) < 0.02, (name, bias(r, name))
    assert bias(voigt_only, "tCr") < -0.025, bias(voigt_only, "tCr")   # the effect is real
    w = r.arrays["voigt_weight"]
    assert np.all((0.0 <= w) & (w <= 1.0)) and 0.0 < w.mean() < 1.0


def test_batch_equals_single(basis):
    amps = truth_amplitudes(basis)
    s = simulate(basis, amps, n=3, noise_sd=4.0, seed=5)
    model = FitModel(basis)
    together = model.fit(s)
    alone = model.fit(s.replace(data=s.data[1:2]))
    # identical up to float32 rounding in the modulation and the LM stopping rule
    # (chi^2 change < 0.02): far below the statistical uncertainty
    diff = np.abs(together.amplitude[1] - alone.amplitude[0])
    assert np.all(diff <= 1e-3 * together.crlb_abs[1] + 1e-6 * np.abs(together.amplitude[1]))


@pytest.fixture(scope="module")
def challenge_fit(challenge, basis):
    ids = [1, 7, 21]
    specs = [mq.load(challenge / "datasets_text" / f"dataset{i}.txt") for i in ids]
    s = specs[0].replace(data=np.stack([x.data for x in specs]), dims=("dyn",))
    return ids, FitModel(basis).fit(s)


@pytest.mark.parametrize("name, truth_row, tol", [
    ("tNAA", "NAA+NAAG", 0.05), ("tCho", "GPC+PCho", 0.10), ("Glu", "Glu", 0.15), ("mI", "Ins", 0.10)])
def test_challenge_ratios(challenge_fit, shared_data, name, truth_row, tol):
    """High-SNR challenge spectra: ratio to tCr against the published truth."""
    ids, r = challenge_fit
    truth = pd.read_csv(shared_data / "fitting_challenge_2016_truth" / "answers_datasets1-21_mM.csv", index_col=0)
    est = r.ratio("tCr")[:, r.metabolites.index(name)]
    tr = np.array([truth.loc[truth_row, f"dataset{i}"] / truth.loc["Cr+PCr", f"dataset{i}"] for i in ids])
    assert np.all(np.abs(est / tr - 1) < tol), (est, tr)


def test_te_mismatch_is_said_on_use(challenge, tmp_path, capsys):
    """A basis for another TE is fitted, but said clearly: Python warning, result, fit.nc, CLI line."""
    import json
    import warnings

    import mrsquant as mq
    from mrsquant.basis.io import load_basis
    from mrsquant.cli import main
    from mrsquant.errors import BasisMismatchWarning
    from mrsquant.fitting import FitModel, open_fit

    basis = load_basis(challenge / "basisset_text_noTMS")                 # TE 30
    s = mq.load(challenge / "datasets_text" / "dataset1.txt")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = FitModel(basis).fit(s.replace(te_ms=20.0))
    assert any(issubclass(w.category, BasisMismatchWarning) and "TE" in str(w.message) for w in caught)
    assert res.warnings == ["basis TE 30 ms differs from the data TE 20 ms"]
    assert json.loads(res.to_xarray().attrs["basis_warnings"]) == res.warnings
    with warnings.catch_warnings(record=True) as caught:               # same TE: nothing said
        warnings.simplefilter("always")
        assert FitModel(basis).fit(s).warnings == []
    assert not any(issubclass(w.category, BasisMismatchWarning) for w in caught)
    # CLI: one clean warning line on stderr, recorded in fit.nc
    steam = Path(__file__).resolve().parents[2] / "data" / "basis" / "steam_te20_tm10_3T"
    out = tmp_path / "o"
    assert main(["fit", str(challenge / "datasets_text" / "dataset1.txt"), "--basis", str(steam),
                 "-o", str(out), "--quiet"]) == 0
    err = [ln for ln in capsys.readouterr().err.splitlines() if "warning" in ln]
    assert len(err) == 1 and "basis TE 20 ms differs from the data TE 30 ms" in err[0]
    assert "TE" in open_fit(out).attrs["basis_warnings"]


def test_empty_spectrum_fails_alone(basis):
    """An all-zero spectrum in a batch is 'failed' with NaN estimates; the others are untouched."""
    amps = truth_amplitudes(basis)
    s = simulate(basis, amps, n=3, noise_sd=4.0, seed=9)
    data = s.data.copy()
    data[1] = 0
    model = FitModel(basis)
    r = model.fit(s.replace(data=data))
    alone = model.fit(s.replace(data=data[[0, 2]]))
    assert r.status[1].startswith("failed: empty spectrum")
    assert np.isnan(r.amplitude[1]).all() and np.isnan(r.crlb_abs[1]).all()
    assert r.status[0] == r.status[2] == "ok"
    assert np.allclose(r.amplitude[[0, 2]], alone.amplitude, rtol=1e-4, atol=1e-6 * np.abs(alone.amplitude).max())


def test_ratio_sd_is_honest(basis):
    """Covariance-aware SD of arbitrary ratios vs the empirical SD over noise realisations."""
    amps = truth_amplitudes(basis)
    s = simulate(basis, amps, n=64, noise_sd=6.0, seed=11)
    r = FitModel(basis).fit(s)
    truth = dict(zip(basis.names, amps))
    for num, den, true in (("tCho", "tNAA", (truth["GPC"] + truth["PCh"]) / (truth["NAA"] + truth["NAAG"])),
                           ("Glx", "tCr", (truth["Glu"] + truth["Gln"]) / (truth["Cr"] + truth["PCr"]))):
        value, sd = r.ratio_sd(num, den)
        i, j = r.metabolites.index(num), r.metabolites.index(den)
        assert np.allclose(value, r.amplitude[:, i] / r.amplitude[:, j])
        assert abs(np.mean(value) / true - 1) < 0.05, (num, den)        # known truth
        ratio = np.std(value, ddof=1) / np.mean(sd)
        # 64 samples: ~9 % sampling error of the SD; allow 0.7-1.4 as for the CRLBs
        assert 0.7 < ratio < 1.4, (num, den, ratio)
