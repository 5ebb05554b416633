"""A basis simulated to match a file's header (basis/like.py, `mrsquant fit` without --basis)."""
import numpy as np
import pytest

import mrsquant as mq
from mrsquant.basis.like import basis_like, like_parameters, sequence_from_header
from mrsquant.cli import main
from mrsquant.errors import InputError


@pytest.mark.parametrize("meta, expected", [
    ({"SequenceName": "*svs_se", "ProtocolName": "svs_se_30_LSTG"}, "press"),
    ({"SequenceName": "*svs_st"}, "steam"),
    ({"ProtocolName": "PRESS PAR 35"}, "press"),
    ({"ProtocolName": "SV_PRESS_30"}, "press"),
    ({"ProtocolName": "STEAM_TE11"}, "steam"),
    ({"SequenceName": "svs_slaser_dkd"}, "slaser"),
    ({"SequenceName": "mega_press_gaba"}, "mega-press"),
    ({"ProtocolName": "localizer"}, None),
])
def test_sequence_from_header(meta, expected):
    assert sequence_from_header(meta) == expected


def test_parameters_from_a_siemens_rda(shared_data):
    s = mq.load(shared_data / "suspect_examples/tests/test_data/siemens/SVS_30.rda")
    p = like_parameters(s)
    # header facts (data/README: RDA shape (1024,), TE 30)
    assert p["sequence"] == "press" and p["te_ms"] == 30.0 and p["n_points"] == 1024
    assert abs(p["field_mhz"] - 123.234655) < 1e-3 and p["macromolecules"] == "standard"
    assert abs(p["bandwidth_hz"] - 1.0 / s.dwelltime_s) < 1e-6


def test_unknown_sequence_is_a_clear_error():
    s = mq.Spectra(data=np.ones(512, complex), dwelltime_s=2.5e-4, spectrometer_frequency_mhz=123.2,
                   te_ms=30.0, meta={"ProtocolName": "mystery"})
    with pytest.raises(InputError, match="--sequence"):
        like_parameters(s)
    assert like_parameters(s, sequence="steam")["sequence"] == "steam"


def test_cached_basis_is_reused(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("MRSQUANT_CACHE", str(tmp_path / "cache"))
    s = mq.load(shared_data / "suspect_examples/tests/test_data/siemens/SVS_30.rda")
    first, _ = basis_like(s)
    assert len(list((tmp_path / "cache").iterdir())) == 1
    second, _ = basis_like(s)
    assert first.names == second.names and np.allclose(first.fids, second.fids, atol=1e-6 * np.abs(first.fids).max())
    assert first.n_points == s.n_points and abs(first.dwelltime_s - s.dwelltime_s) < 1e-12


def test_fit_without_basis(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("MRSQUANT_CACHE", str(tmp_path / "cache"))
    rda = shared_data / "suspect_examples/tests/test_data/siemens/SVS_30.rda"
    assert main(["fit", str(rda), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    rows = (tmp_path / "out" / "concentrations.tsv").read_text().splitlines()
    header = rows[0].split("\t")
    tnaa = next(r.split("\t") for r in rows if r.split("\t")[1] == "tNAA")
    # a Siemens 3T PRESS TE 30 in-vivo spectrum: healthy-brain tNAA/tCr
    assert 1.1 < float(tnaa[header.index("ratio_tcr")]) < 1.9


def test_basis_simulate_like(shared_data, tmp_path):
    from mrsquant.basis.io import load_basis

    rda = shared_data / "suspect_examples/tests/test_data/siemens/SVS_30.rda"
    assert main(["basis", "simulate", "--like", str(rda), "-o", str(tmp_path / "b")]) == 0
    b = load_basis(tmp_path / "b")
    s = mq.load(rda)
    assert b.n_points == s.n_points and abs(b.spectrometer_frequency_mhz - s.spectrometer_frequency_mhz) < 1e-3
    assert b.te_ms == 30.0 and "Lip13" in b.names        # short TE: MM/lipid components added


def test_basis_simulate_without_sequence_or_like_is_refused(tmp_path, capsys):
    assert main(["basis", "simulate", "--te", "30", "-o", str(tmp_path / "b")]) == 2
    assert not (tmp_path / "b").exists()
    assert "--like" in capsys.readouterr().err
