"""Spectral registration against simulated truth (known drifts and phases)."""
import numpy as np
import pytest

from mrsquant.errors import InputError
from mrsquant.preproc import align_transients, average, shift_phase

from . import sim


def _errors(info, f_true, p_true):
    fe = info["freq_shift_hz"] - f_true
    pe = (info["phase_deg"] - p_true + 180) % 360 - 180
    return fe - fe.mean(), pe - pe.mean()   # up to a common offset (the template's frame)

def test_drift_and_phase_recovered_near_cramer_rao(dataset1):
    """64 transients, random-walk drift within +/-8 Hz, phases within +/-30 deg, NAA SNR 10
    per transient; pooled over 4 independent draws (256 transients)."""
    fe_all, pe_all = [], []
    for seed in range(4):
        drifted, _, f_true, p_true = sim.drifting_transients(dataset1, seed=seed)
        assert np.abs(f_true).max() == pytest.approx(8.0)
        _, info = align_transients(sim.spectra_of(drifted))
        fe, pe = _errors(info, f_true, p_true)
        fe_all.append(fe)
        pe_all.append(pe)
    rms_f = np.sqrt(np.mean(np.square(fe_all)))
    rms_p = np.sqrt(np.mean(np.square(pe_all)))
    assert rms_f <= 0.25, rms_f
    assert rms_p <= 1.5, rms_p

def test_average_after_alignment_matches_drift_free(dataset1):
    drifted, free, f_true, p_true = sim.drifting_transients(dataset1, seed=11, noise_follows_drift=True)
    aligned, info = align_transients(sim.spectra_of(drifted))
    avg, _ = average(aligned, weights="inverse_variance")
    # back to the true frame (the template's common offset is arbitrary), so both
    # averages are compared on the same frequency grid
    common_f = np.mean(info["freq_shift_hz"] - f_true)
    common_p = np.angle(np.mean(np.exp(1j * np.deg2rad(info["phase_deg"] - p_true))), deg=True)
    avg = shift_phase(avg, shift_hz=common_f, phase_deg=common_p)
    ref = free.mean(axis=0)
    ppm = avg.ppm
    assert abs(sim.fwhm_hz(avg.data) - sim.fwhm_hz(ref)) <= 0.3
    assert sim.snr(avg.data, ppm) == pytest.approx(sim.snr(ref, ppm), rel=0.05)
    # and the unaligned average is visibly worse (the test can tell the difference)
    plain = drifted.mean(axis=0)
    assert sim.fwhm_hz(plain) > sim.fwhm_hz(ref) + 1.0

def test_large_offset_found_by_coarse_search(dataset1):
    clean = sim.spectra_of(np.stack([dataset1] * 4))
    shifted = shift_phase(clean, shift_hz=np.array([0.0, 15.0, -12.0, 3.0]), phase_deg=np.array([0, 90, -120, 10.0]))
    _, info = align_transients(shifted, template=dataset1, n_passes=1)
    np.testing.assert_allclose(info["freq_shift_hz"], [0, 15, -12, 3], atol=1e-3)
    np.testing.assert_allclose(info["phase_deg"], [0, 90, -120, 10], atol=0.05)

def test_each_edit_condition_gets_its_own_template(dataset1):
    other = dataset1 * np.exp(-np.pi * 6.0 * sim.axes.time_axis(dataset1.size, sim.DWELL_S))
    data = np.stack([np.stack([dataset1, other])] * 3)           # (dyn, edit, n)
    s = sim.spectra_of(data, dims=("dyn", "edit"))
    shifts = np.array([[0.0, 2.0], [1.0, -3.0], [-2.0, 4.0]])
    drifted = shift_phase(s, shift_hz=shifts)
    out, info = align_transients(drifted)
    rel = info["freq_shift_hz"] - info["freq_shift_hz"][0]
    np.testing.assert_allclose(rel, shifts - shifts[0], atol=1e-3)
    assert out.dims == ("dyn", "edit")
    assert out.meta["ProcessingApplied"][-1]["Method"] == "Frequency and phase correction"
    assert "ProcessingApplied" not in s.meta       # input untouched

def test_missing_dim_is_a_clear_error(dataset1):
    with pytest.raises(InputError, match="no 'dyn' dimension"):
        align_transients(sim.spectra_of(dataset1))

