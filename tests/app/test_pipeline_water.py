"""Water scaling with a raw multi-coil reference: data fitted raw or combined beforehand give
the same mM (7T nifti_mrs_examples, 4 coils x 16 transients; issue 20 part 4)."""
import pytest

from mrsquant.app.pipeline import fit_files


@pytest.fixture(scope="module")
def steam_basis():
    from mrsquant.basis import simulate_basis

    return simulate_basis("steam", te_ms=11, tm_ms=32, field_mhz=297.219948, n_points=4096,
                          bandwidth_hz=1 / 83.3e-6,
                          metabolites=["NAA", "NAAG", "Cr", "PCr", "GPC", "PCh", "Glu", "Gln", "mI", "Tau", "GSH"])


def test_raw_and_precombined_data_give_the_same_mm(shared_data, steam_basis, tmp_path):
    from mrsquant.io import load, save
    from mrsquant.preproc import preprocess

    d = shared_data / "nifti_mrs_examples/tests/test_data"
    wref = d / "wref_raw.nii.gz"
    raw = fit_files([d / "metab_raw.nii.gz"], steam_basis, outdir=tmp_path / "raw", water=[wref], progress=False)
    # as another tool would hand it over (coil weights from the water reference, as ours)
    combined, _ = preprocess(load(d / "metab_raw.nii.gz"), water=load(wref))
    pre = save(combined, tmp_path / "metab_combined.nii.gz")
    done = fit_files([pre], steam_basis, outdir=tmp_path / "pre", water=[wref], progress=False)
    tcr = [float(o["dataset"]["conc_mm"].sel(metabolite="tCr").values[0]) for o in (raw, done)]
    assert 5.0 <= tcr[0] <= 20.0
    assert tcr[1] == pytest.approx(tcr[0], rel=0.01)     # was 11.8x higher (plain mean over coils)
