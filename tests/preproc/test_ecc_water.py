"""Eddy-current correction and HLSVD residual-water removal against simulated truth."""
import numpy as np
import pytest

from mrsquant import axes
from mrsquant.errors import InputError
from mrsquant.preproc import eddy_current_correction, hlsvd, remove_water

from . import sim


def _lorentzian(ppm, lw_hz, n=2048, amp=1.0, phase=0.0):
    t = axes.time_axis(n, sim.DWELL_S)
    return amp * np.exp(1j * phase + 2j * np.pi * axes.ppm_to_hz(ppm, sim.F0_MHZ) * t - np.pi * lw_hz * t)


def test_ecc_turns_eddy_current_phase_flat():
    n = 2048
    t = axes.time_axis(n, sim.DWELL_S)
    phi_ec = 1.5 * np.exp(-t / 0.04) + 0.6 * np.exp(-t / 0.008)      # rad, two decaying terms
    water = _lorentzian(4.65, 6.0) * np.exp(1j * phi_ec) * 1000
    rng = np.random.default_rng(3)
    water = water + 0.05 * (rng.normal(size=n) + 1j * rng.normal(size=n))
    metab = _lorentzian(2.008, 4.0) * np.exp(1j * phi_ec)
    ideal = _lorentzian(2.008, 4.0)
    out, info = eddy_current_correction(sim.spectra_of(metab), sim.spectra_of(water))
    # the corrected phase relative to the ideal one is flat (< 1 deg, water-phase noise) while signal lasts
    live = np.abs(ideal) > 0.05
    resid = np.angle(out.data[live] / ideal[live])
    assert np.max(np.abs(resid)) < np.deg2rad(1.0)
    before = np.angle(metab[live] / ideal[live])
    assert np.ptp(before) > np.deg2rad(60)                          # it was not flat before


def test_ecc_reference_must_be_single_fid():
    fid = _lorentzian(2.0, 4.0)
    ref = sim.spectra_of(np.stack([fid, fid]))
    with pytest.raises(InputError, match="single FID"):
        eddy_current_correction(sim.spectra_of(fid), ref)


def test_hlsvd_recovers_known_lines():
    fid = _lorentzian(2.0, 5.0, amp=2.0) + _lorentzian(3.0, 8.0, amp=1.0, phase=0.5)
    f, d, a = hlsvd(fid, sim.DWELL_S, n_components=4, n_fit=512)
    big = np.argsort(-np.abs(a))[:2]
    ppm = 4.65 - f[big] / sim.F0_MHZ
    order = np.argsort(ppm)
    np.testing.assert_allclose(ppm[order], [2.0, 3.0], atol=1e-4)
    np.testing.assert_allclose(d[big][order], [np.pi * 5.0, np.pi * 8.0], rtol=1e-3)
    np.testing.assert_allclose(np.abs(a[big][order]), [2.0, 1.0], rtol=1e-3)


def test_residual_water_removed_below_one_percent(shared_data):
    metab = sim.challenge_fid(shared_data)        # noiseless challenge-basis spectrum, no water
    water = (_lorentzian(4.65, 7.0, amp=1.0, phase=0.7) + _lorentzian(4.72, 12.0, amp=0.4, phase=-0.3))
    ppm = axes.ppm_axis(2048, sim.DWELL_S, sim.F0_MHZ)
    naa = np.abs(axes.to_spectrum(metab))[axes.ppm_window(ppm, (1.9, 2.1))].max()
    water *= 50 * naa / np.abs(axes.to_spectrum(water)).max()        # water peak 50 x NAA
    data = sim.spectra_of(metab + water)
    out, info = remove_water(data)
    win = axes.ppm_window(ppm, (4.2, 5.2))
    height = np.abs(axes.to_spectrum(water))[win].max()
    left = np.abs(axes.to_spectrum(out.data - metab))[win].max()
    assert left < 0.01 * height, left / height
    # metabolites in the usual fit range untouched (< 1 % of NAA); lines inside 4.2-5.2 ppm
    # (NAA 4.38, GSH 4.56...) go with the water by design, and their tails reach ~4 ppm
    low = axes.ppm_window(ppm, (0.5, 3.85))
    assert np.abs(axes.to_spectrum(out.data - metab))[low].max() < 0.01 * naa
    assert out.meta["ProcessingApplied"][-1]["Method"] == "Nuisance peak removal"
