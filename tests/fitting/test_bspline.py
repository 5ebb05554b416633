"""The baseline's B-spline design matrix is built without scipy.interpolate (issue 21: start-up
time) and must equal ``BSpline.design_matrix`` bit for bit (so fits are unchanged)."""
import numpy as np
import pytest
from scipy.interpolate import BSpline

from mrsquant.fitting._core import bspline_design


def _scipy_design(x, spacing, degree):
    lo, hi = float(np.min(x)), float(np.max(x))
    n_int = max(1, int(np.ceil((hi - lo) / spacing)))
    inner = np.linspace(lo, hi, n_int + 1)
    h = inner[1] - inner[0]
    knots = np.concatenate([lo - h * np.arange(degree, 0, -1), inner, hi + h * np.arange(1, degree + 1)])
    return BSpline.design_matrix(np.clip(x, lo, hi), knots, degree).toarray()[:, :len(knots) - degree - 1]


@pytest.mark.parametrize("degree", [1, 2, 3])
@pytest.mark.parametrize("spacing", [0.2, 0.33, 0.4, 1.0])
def test_bspline_design_is_bit_identical_to_scipy(degree, spacing):
    rng = np.random.default_rng(degree)
    for x in (np.linspace(4.2, 0.2, 252), np.linspace(4.5, -0.3, 2048), np.sort(rng.uniform(0.2, 4.2, 300))):
        ours, ref = bspline_design(x, spacing, degree), _scipy_design(x, spacing, degree)
        assert ours.shape == ref.shape and ours.tobytes() == ref.tobytes()
        np.testing.assert_allclose(ours.sum(axis=1), 1.0, rtol=1e-12)     # partition of unity
