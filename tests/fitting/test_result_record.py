"""FitResult is an immutable record built in one place (issue 19): provenance and water scaling
return new records, and to_xarray works for the serial, threaded, dask and MRSI paths alike."""
import numpy as np
import pytest

from mrsquant.fitting import FitModel
from mrsquant.fitting.synthetic import singlet_basis, singlet_spectra

TRUTH = np.array([[10.0, 8.0, 2.0], [5.0, 8.0, 3.0], [12.0, 6.0, 1.0], [0.0, 0.0, 0.0]])


@pytest.fixture(scope="module")
def fitted():
    basis = singlet_basis()
    spectra = singlet_spectra(TRUTH, noise_sd=0.02, seed=1, basis=basis)
    data = spectra.data.copy()
    data[3] = 0                                   # a dropped acquisition: no signal, no noise
    spectra = spectra.replace(data=data)
    model = FitModel(basis, baseline="none", chunk_size=2)
    return model, spectra, model.fit(spectra, jobs=1)


def test_fit_recovers_singlet_amplitudes_and_marks_the_empty_spectrum(fitted):
    _, _, res = fitted
    assert res.status[:3] == ["ok"] * 3 and res.status[3].startswith("failed: empty spectrum")
    est = res.amplitude[:3, :3]
    # noise SD 0.02 per point over 1024 points: CRLBs are ~0.01-0.03 of amplitude; 5 bounds is generous
    assert np.all(np.abs(est - TRUTH[:3]) < 5 * res.crlb_abs[:3, :3])
    assert np.isnan(res.amplitude[3]).all()


def test_record_cannot_be_changed(fitted):
    _, _, res = fitted
    with pytest.raises(AttributeError, match="immutable"):
        res.status = ["ok"] * 4
    with pytest.raises(TypeError):
        res.arrays["amplitude"] = np.zeros(3)
    res.status[0] = "changed"                     # a copy
    assert res.status[0] == "ok"


def test_with_provenance_and_with_water_return_new_records(fitted):
    _, _, res = fitted
    named = res.with_provenance(inputs=["a", "b", "c", "d"], water_inputs=["w"] * 4)
    assert named.inputs == ["a", "b", "c", "d"] and res.inputs == []
    with pytest.raises(ValueError, match="4 spectra"):
        res.with_provenance(inputs=["a"])
    conc = res.amplitude * 2.0
    scaled = named.with_water(conc, res.crlb_abs * 2.0, water_fwhm_hz=np.full(4, 5.0))
    assert scaled.conc_mm is conc and res.conc_mm is None
    assert scaled.inputs == named.inputs                       # provenance carried over
    ds = scaled.to_xarray()
    np.testing.assert_allclose(ds["conc_mm"].values[:3], 2.0 * res.amplitude[:3])
    np.testing.assert_allclose(ds["water_fwhm_hz"].values, 5.0)
    assert np.isnan(res.to_xarray()["water_fwhm_hz"].values).all()   # the original is untouched


def test_threads_and_serial_give_one_dataset(fitted):
    model, spectra, res = fitted
    threaded = model.fit(spectra, jobs=2)
    a, b = res.to_xarray(), threaded.to_xarray()
    assert list(a["status"].values) == list(b["status"].values)
    np.testing.assert_array_equal(a["amplitude"].values, b["amplitude"].values)


def test_dask_path_gives_the_same_dataset(fitted):
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    from mrsquant.app.distributed import fit_distributed

    model, spectra, res = fitted
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as lc, \
            Client(lc) as client:
        dist = fit_distributed(model, spectra, client=client, chunk_size=2)
    ds = dist.to_xarray()
    assert list(ds["status"].values) == res.status and dist.failed_chunks == []
    np.testing.assert_allclose(ds["amplitude"].values, res.to_xarray()["amplitude"].values, rtol=1e-6,
                               equal_nan=True)


def test_mrsi_path_gives_a_dataset_per_voxel():
    from mrsquant.app.mrsi import fit_mrsi

    basis = singlet_basis()
    flat = singlet_spectra(np.tile([10.0, 8.0, 2.0], (4, 1)), noise_sd=0.02, seed=3, basis=basis)
    grid = flat.replace(data=flat.data.reshape(2, 2, 1, -1), dims=("x", "y", "z"))
    fit = fit_mrsi(FitModel(basis, baseline="none"), grid, min_snr=0.0)
    ds = fit.result.to_xarray()
    assert ds.sizes["spectrum"] == 4
    np.testing.assert_allclose(ds["amplitude"].sel(metabolite="Cr").values, 8.0, rtol=0.02)
