"""Noise SD estimate (fitting/model.py::noise_sd) against known white noise."""
import numpy as np
import pytest

from mrsquant import axes
from mrsquant.basis.simulate import simulate_basis
from mrsquant.fitting.model import noise_sd


@pytest.mark.parametrize("bandwidth_hz", [4000.0, 2000.0, 1200.0])
def test_noise_sd_with_signal_present(bandwidth_hz):
    """Brain-like signal incl. broad MM/lipids at 0.9-1.3 ppm; the spectral SD of the noise is known.

    1200 Hz at 3T spans only -0.2..9.6 ppm (Siemens RDA of suspect): no region below -1 ppm. That
    file also has glitches in its first and last points, which made the old fallback (SD of the
    outer 10 %) read the noise 5.9x too high (FQN 0.26); they are simulated here.
    """
    b = simulate_basis("press", te_ms=30, field_mhz=123.2, n_points=1024, bandwidth_hz=bandwidth_hz,
                       macromolecules="standard", lw_hz=4.0)
    amps = np.array([{"NAA": 12, "Cr": 5, "PCr": 4, "Glu": 10, "mI": 6, "GPC": 1, "Lip13": 30,
                      "Lip09": 20, "MM09": 10}.get(n, 1.0) for n in b.names])
    fid = amps @ b.fids
    rng = np.random.default_rng(0)
    sd_time = 0.02 * np.abs(fid).max()
    noisy = fid + sd_time * (rng.standard_normal((20, fid.size)) + 1j * rng.standard_normal((20, fid.size)))
    spec = axes.to_spectrum(noisy)
    # edge glitches as in the real Siemens RDA (first/last points tens of noise SDs off)
    spec[:, :2] += 40 * sd_time * np.sqrt(fid.size)
    spec[:, -2:] -= 40 * sd_time * np.sqrt(fid.size)
    true_sd = sd_time * np.sqrt(fid.size)          # per real component of the unnormalised FFT
    est = noise_sd(spec, b.ppm)
    # ~100-300 noise points per spectrum: the robust SD has a ~7-10 % sampling spread of its own
    assert np.all(np.abs(est / true_sd - 1) < 0.25), est / true_sd
    assert abs(np.median(est / true_sd) - 1) < 0.06
