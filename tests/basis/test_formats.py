"""Basis import/export round trips and the challenge's own formats."""
import json

import numpy as np
import pytest

from mrsquant.basis import Basis
from mrsquant.basis.formats import write_fsl_folder, write_jmrui
from mrsquant.basis.io import load_basis, save_basis
from mrsquant.basis.simulate import simulate_basis
from mrsquant.errors import InputError


@pytest.fixture(scope="module")
def small():
    return simulate_basis("press", te_ms=30, te1_ms=11, te2_ms=19, field_mhz=123.2, n_points=512,
                          bandwidth_hz=4000, metabolites=["Cr", "Lac", "GABA", "MM0.92"])


def _same(a: Basis, b: Basis, atol, f0_atol=1e-4):
    assert a.names == b.names
    assert a.dwelltime_s == pytest.approx(b.dwelltime_s)
    assert a.spectrometer_frequency_mhz == pytest.approx(b.spectrometer_frequency_mhz, abs=f0_atol)
    np.testing.assert_allclose(a.fids, b.fids, atol=atol)


def test_mrsquant_folder_round_trip(small, tmp_path):
    out = save_basis(small, tmp_path / "press30")
    assert (out / "basis.json").is_file() and (out / "Cr.nii.gz").is_file()
    back = load_basis(out)
    _same(small, back, atol=1e-5 * np.abs(small.fids).max())   # complex64 storage
    assert back.te_ms == 30 and back.sequence == "press"
    assert back.provenance["normalisation"].startswith("FID(t=0)")
    # overwrite in place keeps a valid folder
    save_basis(small.select(["Cr"]), out)
    assert load_basis(out).names == ("Cr",)


def test_fsl_folder_round_trip_and_name_normalisation(small, tmp_path):
    write_fsl_folder(small, tmp_path / "fsl")
    doc = json.loads((tmp_path / "fsl" / "Cr.json").read_text())
    assert {"basis_re", "basis_im", "basis_dwell", "basis_centre", "basis_width"} <= set(doc["basis"])
    back = load_basis(tmp_path / "fsl")
    _same(small, back.select(small.names), atol=1e-12)
    # an alias written by another tool ("PCho", "Ins") is normalised on import
    doc["basis"]["basis_name"] = "PCho"
    (tmp_path / "fsl" / "Cr.json").write_text(json.dumps(doc))
    assert "PCh" in load_basis(tmp_path / "fsl").names


def test_fsl_folder_with_opposite_sign_convention_is_conjugated(small, tmp_path):
    write_fsl_folder(small.replace(fids=np.conj(small.fids)), tmp_path / "fslc")
    back = load_basis(tmp_path / "fslc")
    assert back.provenance["conjugated"] is True
    _same(small, back.select(small.names), atol=1e-12)


def test_jmrui_round_trip(small, tmp_path):
    write_jmrui(small, tmp_path / "basis.txt")
    back = load_basis(tmp_path / "basis.txt")
    _same(small, back, atol=1e-6 * np.abs(small.fids).max())


def test_challenge_jmrui_and_text_agree(challenge):
    # the challenge ships one basis in several formats: jMRUI (opposite sign convention) == text
    j = load_basis(challenge / "basisset_JMRUI")
    t = load_basis(challenge / "basisset_text")
    assert j.provenance["conjugated"] is True
    assert set(j.names) == set(t.names) and "mI" in j.names and "PCh" in j.names
    # (the text folder has no header: 123.2 MHz assumed; jMRUI says 123.22)
    _same(t, j.select(t.names), atol=1e-6, f0_atol=0.05)


def test_lcmodel_basis_round_trip(small, tmp_path):
    out = save_basis(small, tmp_path / "sim.BASIS")
    back = load_basis(out)
    _same(small, back.select(small.names), atol=1e-6 * np.abs(small.fids).max())


def test_corrupt_inputs_give_input_errors(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "basis.json").write_text("{not json")
    with pytest.raises(InputError):
        load_basis(bad)
    fsl = tmp_path / "fsl"
    fsl.mkdir()
    (fsl / "NAA.json").write_text('{"basis": {"basis_re": [1, 2]}}')
    with pytest.raises(InputError):
        load_basis(fsl)
    jm = tmp_path / "x.txt"
    jm.write_text("jMRUI Data Textfile\nPointsInDataset: 4\n")
    with pytest.raises(InputError):
        load_basis(jm)
