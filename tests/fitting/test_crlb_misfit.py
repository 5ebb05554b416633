"""CRLBs that include model misfit (issue 20): a basis member missing from the fit.

Two misfits the model cannot describe: a basis member (mI) missing from the fit,
and a split line (two compartments 6 Hz apart, as with motion or drift). The
remaining estimates then err by more than the noise alone explains; the
residual-scaled CRLB (default) must cover the error (95 % interval) more often
than the noise-only bound. On a spectrum the model describes fully, the two agree
up to the sampling spread of the residual variance.
"""
import numpy as np
import pytest

import mrsquant as mq
from mrsquant import axes
from mrsquant.basis.io import load_basis
from mrsquant.fitting import FitModel

TYPICAL = {"NAA": 12.0, "NAAG": 1.5, "Cr": 5.0, "PCr": 4.0, "GPC": 1.0, "PCh": 0.6, "Glu": 10.0,
           "Gln": 4.0, "mI": 6.0, "GSH": 2.0, "Tau": 1.5, "GABA": 1.5, "Mac": 10.0, "Asp": 2.0}


@pytest.fixture(scope="module")
def basis(challenge):
    return load_basis(challenge / "basisset_text_noTMS")


def _spectra(basis, n=30, snr=150.0, seed=3):
    conc = np.array([TYPICAL.get(m, 0.0) for m in basis.names])
    t = axes.time_axis(basis.n_points, basis.dwelltime_s)
    fid = (conc @ basis.fids) * np.exp(-np.pi * 5.0 * t)
    height = axes.to_spectrum(fid)[np.abs(basis.ppm - 2.01) < 0.05].real.max()
    sd = height / snr / np.sqrt(t.size)
    rng = np.random.default_rng(seed)
    data = fid + sd * (rng.standard_normal((n, t.size)) + 1j * rng.standard_normal((n, t.size)))
    s = mq.Spectra(data=data, dims=("dyn",), dwelltime_s=basis.dwelltime_s,
                   spectrometer_frequency_mhz=basis.spectrometer_frequency_mhz, te_ms=30)
    return s, dict(zip(basis.names, conc))


def _truth_with_sums(truth):
    out = dict(truth)
    out["tCho"], out["tCr"] = truth["GPC"] + truth["PCh"], truth["Cr"] + truth["PCr"]
    return out


def _coverage(res, truth, crlb):
    hits = []
    for name in ("Glu", "Gln", "GSH", "GABA", "NAA", "mI", "Asp", "Tau", "tCho", "tCr"):
        if name in res.metabolites:
            i = res.metabolites.index(name)
            hits.append(np.abs(res.amplitude[:, i] - truth[name]) <= 1.96 * crlb[:, i])
    return float(np.mean(hits))


def _noise_only(res):
    return np.sqrt(np.einsum("nmm->nm", res.covariance_noise))


def test_residual_scaled_crlb_covers_a_missing_member(basis):
    s, truth = _spectra(basis)
    res = FitModel(basis.drop(["mI"])).fit(s)
    assert np.median(res.misfit_factor) > 1.3            # the missing mI is visible in the residual
    scaled, noise = _coverage(res, _truth_with_sums(truth), res.crlb_abs), _coverage(res, _truth_with_sums(truth), _noise_only(res))
    assert scaled > noise + 0.04, (scaled, noise)


def test_residual_scaled_crlb_covers_a_split_line(basis):
    s, truth = _spectra(basis)
    t = axes.time_axis(basis.n_points, basis.dwelltime_s)
    s = s.replace(data=s.data * (0.65 + 0.35 * np.exp(-2j * np.pi * 6.0 * t)))
    res = FitModel(basis).fit(s)
    assert np.median(res.misfit_factor) > 2.0
    scaled, noise = _coverage(res, _truth_with_sums(truth), res.crlb_abs), _coverage(res, _truth_with_sums(truth), _noise_only(res))
    assert scaled > noise + 0.15, (scaled, noise)


def test_full_model_keeps_the_noise_only_bound(basis):
    s, _ = _spectra(basis, n=10, snr=40.0)
    res = FitModel(basis).fit(s)
    # the residual variance of ~500 real values has a ~6 % sampling SD: at most a few SDs above 1
    assert np.median(res.misfit_factor) < 1.05 and res.misfit_factor.max() < 1.3
    assert np.all(res.crlb_abs >= _noise_only(res) * (1 - 1e-9))
