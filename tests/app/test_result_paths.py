"""Every path that builds a FitResult gives a Dataset (issue 19), and water provenance is per input."""
import numpy as np
import pytest

import mrsquant as mq
from mrsquant.app.mrsi import fit_mrsi
from mrsquant.app.pipeline import fit_files
from mrsquant.basis.io import load_basis
from mrsquant.fitting import FitModel
from mrsquant.fitting.synthetic import simulate_mrsi


@pytest.fixture(scope="module")
def basis(challenge):
    return load_basis(challenge / "basisset_text_noTMS")


def test_mrsi_with_water_to_xarray(basis):
    spectra, water, _ = simulate_mrsi(basis, (3, 3, 1), noise_sd=2.0, seed=4)
    fit = fit_mrsi(FitModel(basis), spectra, water=water, min_snr=0.0)
    ds = fit.result.to_xarray()
    n = ds.sizes["spectrum"]
    assert n == 9 and ds["water_data"].shape[0] == n and "water_ppm" in ds.coords
    assert np.isfinite(ds["conc_mm"].sel(metabolite="tCr").values).all()


def test_water_references_follow_their_inputs_when_one_fails(challenge, tmp_path):
    d = challenge / "datasets_LCModel"
    bad = tmp_path / "broken.RAW"
    bad.write_text("not an LCModel file\n")
    inputs = [d / "dataset1.RAW", bad, d / "dataset3.RAW"]
    waters = [d / "dataset1.H2O", d / "dataset2.H2O", d / "dataset3.H2O"]
    cfg = tmp_path / "q.toml"
    cfg.write_text("[sequence]\nte_ms = 30.0\n")        # LCModel .RAW headers carry no TE
    out = fit_files(inputs, challenge / "basisset_text_noTMS", outdir=tmp_path / "fit", water=waters,
                    quant_config=cfg, progress=False)
    assert "broken" in out["failed"]
    res = out["results"][0]
    assert res.names == ["dataset1", "dataset3"]
    assert res.water_inputs == [str(waters[0]), str(waters[2])]


def test_jobs_give_identical_results(basis, challenge):
    from mrsquant.fitting.synthetic import challenge_like

    src = mq.load(challenge / "datasets_text" / "dataset1.txt")
    s = challenge_like(src.replace(data=src.data[None], dims=("spectrum",)), 70, seed=2)
    model = FitModel(basis, chunk_size=16)
    serial, threaded = model.fit(s, jobs=1), model.fit(s, jobs=3)
    assert np.array_equal(serial.amplitude, threaded.amplitude)
    assert np.array_equal(serial.crlb_abs, threaded.crlb_abs)
