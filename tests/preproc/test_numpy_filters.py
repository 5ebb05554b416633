"""The numpy window filters that replace scipy.ndimage on the CLI path (start-up, issue 21)
give exactly scipy's values: scipy is the independent reference here."""
import numpy as np
import pytest
from scipy.ndimage import grey_opening as scipy_opening
from scipy.ndimage import median_filter

from mrsquant.preproc.phase import grey_opening
from mrsquant.qc.metrics import running_median


@pytest.mark.parametrize("size", [3, 4, 5, 8, 9, 16, 17, 40, 41])
def test_grey_opening_equals_scipy(size):
    rng = np.random.default_rng(size)
    for n in (size, 57, 300):
        y = rng.normal(size=n) + np.linspace(0, 3, n)
        np.testing.assert_array_equal(grey_opening(y, size), scipy_opening(y, size=size, mode="nearest"))


def test_grey_opening_keeps_narrow_line_removes_broad_hump():
    x = np.arange(400.0)
    hump = 5 * np.exp(-((x - 200) / 80) ** 2)
    line = 3 * np.exp(-((x - 120) / 2) ** 2)
    tophat = (hump + line) - grey_opening(hump + line, 25)
    assert tophat[120] > 2.5 and np.abs(tophat[250:300]).max() < 0.05


@pytest.mark.parametrize("size", [3, 9])
def test_running_median_equals_scipy(size):
    rng = np.random.default_rng(1)
    x = np.abs(rng.normal(size=(4, 513)))
    np.testing.assert_array_equal(running_median(x, size), median_filter(x, size=(1, size)))
