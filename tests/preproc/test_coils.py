"""Coil combination: simulated coils with known sensitivities and correlated noise, and real 7T data."""
import numpy as np
import pytest

from mrsquant import Spectra, axes
from mrsquant.errors import InputError
from mrsquant.preproc import apply_coil_weights, combine_coils

from . import sim


def _coil_data(dataset1, *, n_dyn=8, seed=0):
    rng = np.random.default_rng(seed)
    sens = np.array([1.0, 0.6 * np.exp(1j * 1.2), 0.3 * np.exp(-1j * 2.0), 0.8 * np.exp(1j * 2.9)])
    # correlated noise: psi = L L^H
    lmat = np.array([[1, 0, 0, 0], [0.7, 0.7, 0, 0], [0, 0.2, 1.5, 0], [0.3, 0, 0.5, 0.8]], complex)
    n = dataset1.size
    sigma = np.abs(dataset1).max() / 40
    white = rng.normal(size=(4, n_dyn, n)) + 1j * rng.normal(size=(4, n_dyn, n))
    noise = sigma * np.einsum("ij,jkn->ikn", lmat, white)
    data = sens[:, None, None] * dataset1[None, None, :] + noise
    noise_scan = sigma * np.einsum("ij,jn->in", lmat, rng.normal(size=(4, 4096)) + 1j * rng.normal(size=(4, 4096)))
    return sim.spectra_of(data, dims=("coil", "dyn")), sens, noise_scan, lmat


def test_combination_recovers_the_signal_and_phase(dataset1):
    s, sens, noise_scan, _ = _coil_data(dataset1)
    out, info = combine_coils(s, noise=noise_scan)
    assert out.dims == ("dyn",)
    # combined = one complex factor times the signal, plus noise no larger than the
    # noise-optimal combination allows; phased so the first point is real positive
    avg = out.data.mean(axis=0)
    scale = np.vdot(dataset1, avg) / np.vdot(dataset1, dataset1)
    resid = avg - scale * dataset1
    psi = noise_scan @ noise_scan.conj().T / noise_scan.shape[1]
    w = info["weights"]
    expected_sd = np.sqrt(np.real(np.vdot(w, psi @ w)) / 8)          # 8 transients averaged
    assert np.std(resid) == pytest.approx(expected_sd, rel=0.05)
    assert abs(np.angle(scale * dataset1[0])) < np.deg2rad(1.0)
    # sensitivities found up to one common complex factor
    ratio = info["sensitivities"] / sens
    np.testing.assert_allclose(ratio / ratio[0], 1.0, atol=0.05)   # weakest, noisiest coil ~2 %


def test_prewhitening_with_noise_scan_beats_plain_weighting(dataset1):
    s, sens, noise_scan, _ = _coil_data(dataset1)
    ppm = s.ppm
    white, _ = combine_coils(s, noise=noise_scan)
    diag, _ = combine_coils(s, prewhiten=False)
    phased_sum = (s.data * np.exp(-1j * np.angle(sens))[:, None, None]).sum(axis=0)
    snr = {k: sim.snr(v.mean(axis=0), ppm) for k, v in
           (("white", white.data), ("diag", diag.data), ("sum", phased_sum))}
    assert snr["white"] > snr["diag"] > snr["sum"]


def test_reference_weights_apply_to_other_data(dataset1):
    s, _, _, _ = _coil_data(dataset1)
    out, info = combine_coils(s)
    again = apply_coil_weights(s, info["weights"])
    np.testing.assert_allclose(again.data, out.data)
    with pytest.raises(InputError, match="coil weights"):
        apply_coil_weights(s, info["weights"][:3])


def test_reference_with_wrong_coil_count_is_an_error(dataset1):
    s, _, _, _ = _coil_data(dataset1)
    ref = Spectra(data=np.ones((3, dataset1.size), complex), dims=("coil",), dwelltime_s=sim.DWELL_S,
                  spectrometer_frequency_mhz=sim.F0_MHZ)
    with pytest.raises(InputError, match="3 coils"):
        combine_coils(s, reference=ref)


def test_real_7t_coil_combination_phases_water(nifti_examples):
    import mrsquant as mq

    metab = mq.load(nifti_examples / "metab_raw.nii.gz")
    water = mq.load(nifti_examples / "wref_raw.nii.gz")
    out, info = combine_coils(water, reference=water)
    first = out.data[..., 0].mean()          # the two water transients differ by ~14 deg
    assert abs(np.angle(first)) < np.deg2rad(0.1)               # mean water first point real positive
    combined, _ = combine_coils(metab, reference=water)
    assert combined.dims == ("dyn",) and combined.shape == (16,)
    assert axes.to_spectrum(combined.data).shape == (16, 4096)
