"""The default fit must keep real differences between spectra (issue 12).

Two groups of simulated spectra differ only in GABA (1.0 vs 2.0 mM, everything
else typical); the fitted difference of the group means of GABA/tCr must be the
true one. With the opt-in literature priors the same data read a much smaller
difference, which shows the test can see shrinkage.
"""
import numpy as np
import pytest

import mrsquant as mq
from mrsquant import axes
from mrsquant.basis.io import load_basis
from mrsquant.fitting import FitModel
from mrsquant.fitting.model import FitOptions

TYPICAL = {"NAA": 12.0, "NAAG": 1.5, "Cr": 5.0, "PCr": 4.0, "GPC": 1.0, "PCh": 0.6, "Glu": 10.0,
           "Gln": 3.0, "mI": 6.0, "GSH": 2.0, "Tau": 1.5, "GABA": 1.5, "Mac": 10.0, "Lac": 0.5,
           "Asp": 2.0, "sI": 0.3, "Gly": 1.0, "PE": 1.5}


@pytest.fixture(scope="module")
def basis(challenge):
    return load_basis(challenge / "basisset_text_noTMS")


def _group(basis, gaba_mm, n, seed, snr=60.0):
    conc = np.array([TYPICAL.get(m, 0.0) for m in basis.names])
    conc[basis.names.index("GABA")] = gaba_mm
    t = axes.time_axis(basis.n_points, basis.dwelltime_s)
    s_g = (np.pi * 2.0 / 2) ** 2 / np.log(2)
    fid = (conc @ basis.fids) * np.exp(-np.pi * 4.0 * t - s_g * t * t - 2j * np.pi * 1.0 * t)
    height = axes.to_spectrum(fid)[np.abs(basis.ppm - 2.01) < 0.05].real.max()
    sd = height / snr / np.sqrt(t.size)
    rng = np.random.default_rng(seed)
    data = fid + sd * (rng.standard_normal((n, t.size)) + 1j * rng.standard_normal((n, t.size)))
    return data, conc


@pytest.fixture(scope="module")
def two_groups(basis):
    lo, c_lo = _group(basis, 1.0, 40, seed=5)
    hi, c_hi = _group(basis, 2.0, 40, seed=6)
    spectra = mq.Spectra(data=np.concatenate([lo, hi]), dims=("dyn",), dwelltime_s=basis.dwelltime_s,
                         spectrometer_frequency_mhz=basis.spectrometer_frequency_mhz, te_ms=30)
    tcr = c_lo[basis.names.index("Cr")] + c_lo[basis.names.index("PCr")]
    return spectra, (2.0 - 1.0) / tcr


def _difference(result):
    g = result.ratio("tCr")[:, result.metabolites.index("GABA")]
    return g[40:].mean() - g[:40].mean(), np.sqrt(g[40:].var(ddof=1) / 40 + g[:40].var(ddof=1) / 40)


def test_priors_are_opt_in():
    assert FitOptions().priors is None


def test_default_fit_keeps_a_gaba_difference(basis, two_groups):
    spectra, true_diff = two_groups
    res = FitModel(basis).fit(spectra)
    diff, se = _difference(res)
    # 40 + 40 spectra at NAA SNR 60: the SE of the difference is ~10 % of it; 0.7-1.3 is ~3 SE
    assert 0.7 < diff / true_diff < 1.3, (diff / true_diff, se / true_diff)
    assert np.all(res.prior_influence == 0.0)


def test_priors_shrink_the_same_difference_and_say_so(basis, two_groups):
    spectra, true_diff = two_groups
    res = FitModel(basis, priors="literature").fit(spectra)
    diff, _ = _difference(res)
    assert diff / true_diff < 0.7           # the shrinkage the default avoids
    infl = res.prior_influence[:, res.metabolites.index("GABA")]
    assert np.median(infl) > 0.5            # and the estimate says it is prior-dominated
    ds = res.to_xarray()
    assert "prior_influence" in ds and float(ds["prior_influence"].sel(metabolite="NAA").median()) < 0.5


def test_allow_negative_removes_the_clipping_bias(basis):
    """GABA truly absent: clipped at 0 the mean reads high; unconstrained it is unbiased."""
    data, _ = _group(basis, 0.0, 40, seed=9, snr=40.0)
    s = mq.Spectra(data=data, dims=("dyn",), dwelltime_s=basis.dwelltime_s,
                   spectrometer_frequency_mhz=basis.spectrometer_frequency_mhz, te_ms=30)
    i = basis.names.index("GABA")
    clipped = FitModel(basis).fit(s).arrays["amplitude"][:, i]
    free = FitModel(basis, nonnegative=False).fit(s).arrays["amplitude"][:, i]
    se = free.std(ddof=1) / np.sqrt(free.size)
    assert clipped.min() >= 0 and clipped.mean() > 2 * se        # the bias non-negativity causes
    assert (free < 0).any() and abs(free.mean()) < 3 * se          # gone without the bound
    mm = FitModel(basis, nonnegative=False).fit(s).arrays["amplitude"][:, basis.names.index("Mac")]
    assert mm.min() >= 0                                           # MM/lipids stay non-negative
