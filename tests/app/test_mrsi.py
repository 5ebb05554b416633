"""MRSI: one batched fit of a simulated grid, maps written as NIfTI with the input affine."""
import nibabel as nib
import numpy as np
import pytest

import mrsquant as mq
from mrsquant.app.mrsi import as_grid, snr_mask
from mrsquant.basis.io import load_basis
from mrsquant.cli import main
from mrsquant.fitting.synthetic import simulate_mrsi

SHAPE = (4, 4, 1)


@pytest.fixture(scope="module")
def basis(challenge):
    return load_basis(challenge / "basisset_text_noTMS")


@pytest.fixture(scope="module")
def grid(basis):
    return simulate_mrsi(basis, SHAPE, outside_ellipse=True, noise_sd=2.0, seed=3)


@pytest.fixture(scope="module")
def written(grid, challenge, tmp_path_factory):
    """``mrsquant maps`` on the simulated grid saved as NIfTI-MRS, with its water reference."""
    spectra, water, _ = grid
    d = tmp_path_factory.mktemp("mrsi")
    mq.save(spectra, d / "csi.nii.gz")
    mq.save(water, d / "csi_water.nii.gz")
    rc = main(["maps", str(d / "csi.nii.gz"), "--basis", str(challenge / "basisset_text_noTMS"),
               "--water", str(d / "csi_water.nii.gz"), "-o", str(d / "maps"), "--quiet"])
    assert rc == 0
    return d / "maps"


def _truth_sum(truth, *names):
    a, n = truth["amplitude"], truth["names"]
    return sum(a[..., n.index(x)] for x in names)


def _read(path):
    img = nib.load(str(path))
    return img, np.asarray(img.dataobj)


def test_snr_mask_finds_the_head(grid):
    spectra, _, truth = grid
    assert np.array_equal(snr_mask(spectra), truth["inside"])


def test_maps_have_input_affine_and_mask(grid, written):
    spectra, _, truth = grid
    img, mask = _read(written / "mask.nii.gz")
    assert np.allclose(img.affine, spectra.affine)
    assert img.header.get_sform(coded=True)[1] == 1
    assert np.array_equal(mask.astype(bool), truth["inside"])
    for name in ("tNAA_ratio_tcr", "tNAA_crlb_percent", "tNAA_conc_mm", "Glu_amplitude", "snr", "fwhm_hz"):
        img, arr = _read(written / f"{name}.nii.gz")
        assert arr.shape == SHAPE and np.allclose(img.affine, spectra.affine)
        assert np.isnan(arr[~truth["inside"]]).all() and np.isfinite(arr[truth["inside"]]).all()


def test_ratio_maps_recover_gradients(grid, written):
    _, _, truth = grid
    inside = truth["inside"]
    tcr = _truth_sum(truth, "Cr", "PCr")
    for met, parts, tol in (("tNAA", ("NAA", "NAAG"), 0.04), ("tCho", ("GPC", "PCh"), 0.08)):
        _, est = _read(written / f"{met}_ratio_tcr.nii.gz")
        expected = _truth_sum(truth, *parts)[inside] / tcr[inside]
        assert np.allclose(est[inside], expected, rtol=tol), met
    # the left-right NAA gradient: row means increase monotonically along x
    _, naa = _read(written / "tNAA_ratio_tcr.nii.gz")
    assert np.all(np.diff(np.nanmean(naa[..., 0], axis=1)) > 0.2)


def test_concentration_maps_follow_water_scaling(grid, written):
    """conc = amplitude / water area x constant: conc x water / true amplitude is uniform."""
    _, _, truth = grid
    inside = truth["inside"]
    _, conc = _read(written / "tNAA_conc_mm.nii.gz")
    k = conc[inside] * truth["water_amplitude"][inside] / _truth_sum(truth, "NAA", "NAAG")[inside]
    assert np.std(k) / np.mean(k) < 0.03
    _, crlb = _read(written / "tNAA_crlb_percent.nii.gz")
    assert np.all((crlb[inside] > 0.1) & (crlb[inside] < 10))


def test_as_grid_adds_missing_axes(grid):
    spectra, _, _ = grid
    two_d = spectra.replace(data=spectra.data[:, :, 0], dims=("x", "y"))
    assert as_grid(two_d).shape == SHAPE


def test_bad_inputs_are_one_line_errors(grid, challenge, tmp_path, capsys):
    spectra, _, _ = grid
    mq.save(spectra, tmp_path / "csi.nii.gz")
    nib.save(nib.Nifti1Image(np.ones((3, 3, 1), np.uint8), np.eye(4)), str(tmp_path / "mask.nii.gz"))
    basis = str(challenge / "basisset_text_noTMS")
    rc = main(["maps", str(tmp_path / "csi.nii.gz"), "--basis", basis,
               "--mask", str(tmp_path / "mask.nii.gz"),
               "-o", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "does not match the MRSI grid (4, 4, 1)" in err and "Traceback" not in err
    single = challenge / "datasets_text" / "dataset1.txt"
    rc = main(["maps", str(single), "--basis", basis, "-o", str(tmp_path / "out"), "--quiet"])
    assert rc == 2 and "not an MRSI grid" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_siemens_rda_csi_maps(shared_data, challenge, tmp_path):
    """A 2x2x1 RDA CSI built from a real SVS .rda (voxels = the FID x 1, 2, 3, 4, x fastest)."""
    src = shared_data / "suspect_examples" / "tests" / "test_data" / "siemens" / "SVS_30.rda"
    raw = src.read_bytes()
    marker = b">>> End of header <<<"
    end = raw.index(marker) + len(marker)
    end = raw.index(b"\n", end) + 1
    header = raw[:end].replace(b"CSIMatrixSize[0]: 1", b"CSIMatrixSize[0]: 2").replace(
        b"CSIMatrixSize[1]: 1", b"CSIMatrixSize[1]: 2")
    fid = np.frombuffer(raw[end:], dtype="<f8")
    (tmp_path / "csi.rda").write_bytes(header + np.concatenate([fid * k for k in (1, 2, 3, 4)]).tobytes())
    csi = mq.load(tmp_path / "csi.rda")
    assert csi.dims == ("x", "y", "z") and csi.shape == (2, 2, 1)
    rc = main(["maps", str(tmp_path / "csi.rda"), "--basis", str(challenge / "basisset_text_noTMS"),
               "--mask", "all", "-o", str(tmp_path / "maps"), "--quiet"])
    assert rc == 0
    img, amp = _read(tmp_path / "maps" / "tNAA_amplitude.nii.gz")
    assert np.allclose(img.affine, csi.affine)
    # a scaled copy of a spectrum has the scaled amplitudes and the same ratios
    assert np.allclose(amp[..., 0] / amp[0, 0, 0], [[1, 3], [2, 4]], rtol=1e-4)
    _, ratio = _read(tmp_path / "maps" / "tNAA_ratio_tcr.nii.gz")
    assert np.allclose(ratio, ratio[0, 0, 0], rtol=1e-4) and 1.0 < ratio[0, 0, 0] < 2.5
    assert not (tmp_path / "maps" / "tNAA_conc_mm.nii.gz").exists()
