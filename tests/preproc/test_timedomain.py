import numpy as np
import pytest

from mrsquant import axes
from mrsquant.errors import InputError
from mrsquant.preproc import apodise, truncate, zero_fill

from . import sim


def _lorentz(lw_hz, n=2048):
    t = axes.time_axis(n, sim.DWELL_S)
    return sim.spectra_of(np.exp(2j * np.pi * axes.ppm_to_hz(2.008, sim.F0_MHZ) * t - np.pi * lw_hz * t))


def test_exponential_apodisation_adds_its_linewidth():
    s = _lorentz(4.0)
    out = apodise(s, lb_hz=3.0)
    # a Lorentzian of FWHM 4 Hz broadened by exp(-pi*3*t) is a Lorentzian of FWHM 7 Hz
    assert sim.fwhm_hz(out.data) == pytest.approx(7.0, abs=0.05)
    assert sim.fwhm_hz(s.data) == pytest.approx(4.0, abs=0.05)


def test_zero_fill_and_truncate():
    s = _lorentz(4.0, n=1024)
    z = zero_fill(s)
    assert z.n_points == 2048 and np.all(z.data[1024:] == 0)
    np.testing.assert_array_equal(truncate(z, n_points=1024).data, s.data)
    assert [p["Method"] for p in truncate(z, n_points=1024).meta["ProcessingApplied"]] == ["Zero-filling", "Truncation"]
    with pytest.raises(InputError):
        truncate(s, n_points=4096)
    with pytest.raises(InputError):
        zero_fill(s, n_points=10)
