"""Outlier rejection rule and weighted averaging."""
import numpy as np
import pytest

from mrsquant import axes
from mrsquant.errors import InputError
from mrsquant.preproc import average, drop, find_outliers

from . import sim


def _transients(dataset1, n=32, seed=5):
    rng = np.random.default_rng(seed)
    sigma = np.abs(dataset1).max() * 0.02
    return dataset1[None] + sigma * (rng.normal(size=(n, dataset1.size)) + 1j * rng.normal(size=(n, dataset1.size)))


def test_corrupted_transients_are_rejected(dataset1):
    data = _transients(dataset1)
    t = axes.time_axis(dataset1.size, sim.DWELL_S)
    # transient 7: motion-like lipid burst at 1.3 ppm; transient 20: half the signal lost
    data[7] += 3 * np.abs(dataset1).max() * np.exp(2j * np.pi * axes.ppm_to_hz(1.3, sim.F0_MHZ) * t - 60 * t)
    data[20] = 0.5 * dataset1 + (data[20] - dataset1)
    info = find_outliers(sim.spectra_of(data))
    assert set(np.flatnonzero(info["rejected"])) == {7, 20}
    assert "> 3" in info["rule"]


def test_clean_transients_are_kept(dataset1):
    info = find_outliers(sim.spectra_of(_transients(dataset1, seed=9)))
    assert info["rejected"].sum() == 0


def test_equal_and_inverse_variance_weights(dataset1):
    data = _transients(dataset1, n=16)
    s = sim.spectra_of(data)
    eq, info = average(s)
    np.testing.assert_allclose(eq.data, data.mean(axis=0))
    assert eq.meta["ProcessingApplied"][-1]["Method"] == "Signal averaging"
    # a noisier transient gets a smaller weight
    data[3] = dataset1 + 3 * (data[3] - dataset1)
    _, winfo = average(sim.spectra_of(data), weights="inverse_variance")
    w = winfo["weights"]
    assert w.sum() == pytest.approx(1.0)
    assert w[3] < 0.3 * np.median(w)
    excl = np.zeros(16, bool)
    excl[[2, 5]] = True
    ex, xinfo = average(s, exclude=excl)
    np.testing.assert_allclose(ex.data, s.data[~excl].mean(axis=0))
    assert xinfo["weights"][2] == 0
    assert drop(s, excl).shape == (14,)


def test_all_rejected_is_an_error(dataset1):
    s = sim.spectra_of(_transients(dataset1, n=4))
    with pytest.raises(InputError, match="nothing to average"):
        average(s, exclude=np.ones(4, bool))
