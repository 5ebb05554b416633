"""``mrsquant convert`` and ``mrsquant info`` in-process through ``main([...])``."""
import shutil

import numpy as np
import pytest

from mrsquant.cli import main
from mrsquant.io import load


@pytest.fixture
def inputs(shared_data):
    return {
        "sdat": shared_data / "spant_examples/inst/extdata/philips_spar_sdat_WS.SDAT",
        "spar": shared_data / "spant_examples/inst/extdata/philips_spar_sdat_WS.SPAR",
        "rda": shared_data / "suspect_examples/tests/test_data/siemens/SVS_30.rda",
        "ima": shared_data / "suspect_examples/tests/test_data/siemens/SVS_30.IMA",
        "raw": shared_data / "lcmodel_test/test_lcm/data.raw",
        "txt": shared_data / "fitting_challenge_2016/datasets_text/dataset5.txt",
        "varian": shared_data / "mm_consensus/STEAM_human_spectra/4T_STEAM_TE4ms_human.fid",
    }


def test_convert_writes_nifti_that_reads_back(inputs, tmp_path, capsys):
    out = tmp_path / "out"
    args = [str(inputs[k]) for k in ("sdat", "spar", "rda", "raw", "txt", "varian")]
    assert main(["convert", *args, "-o", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    # SDAT and SPAR of one pair give one file
    assert names == sorted(["philips_spar_sdat_WS.nii.gz", "SVS_30.nii.gz", "data.nii.gz",
                            "dataset5.nii.gz", "4T_STEAM_TE4ms_human.nii.gz"])
    for key, name in (("sdat", "philips_spar_sdat_WS.nii.gz"), ("raw", "data.nii.gz"),
                      ("txt", "dataset5.nii.gz"), ("varian", "4T_STEAM_TE4ms_human.nii.gz")):
        a, b = load(inputs[key]), load(out / name)
        assert np.array_equal(a.data, b.data)
        assert (a.dwelltime_s, a.spectrometer_frequency_mhz, a.te_ms, a.tr_ms) == \
               (b.dwelltime_s, b.spectrometer_frequency_mhz, b.te_ms, b.tr_ms)


def test_rda_and_ima_of_one_scan_collide(inputs, tmp_path, capsys):
    # SVS_30.rda and SVS_30.IMA would both become SVS_30.nii.gz: refused, nothing written
    out = tmp_path / "out"
    assert main(["convert", str(inputs["rda"]), str(inputs["ima"]), "-o", str(out)]) == 2
    assert not out.exists()
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


@pytest.mark.parametrize("content, name", [
    (b"", "empty.nii.gz"),
    (b"\x00\x01garbage" * 300, "junk.dcm"),
    (b" $NMID ID='x', FMTDAT='(2E15.6)' $END\n   1.000000E+00   2.0000", "cut.RAW"),
    (b" $SEQPAR\n HZPPPM = 123200000.\n $END\n $NMID ID='x', FMTDAT='(2E15.6)' $END\n"
     + b"   1.000000E+00   2.000000E+00\n" * 64, "hz.RAW"),
    (b"hello\n", "notes.xyz"),
])
def test_bad_input_exit_2_one_line_nothing_written(inputs, tmp_path, capsys, content, name):
    bad = tmp_path / name
    bad.write_bytes(content)
    out = tmp_path / "out"
    # a good file first: still nothing may be written
    assert main(["convert", str(inputs["raw"]), str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("mrsquant convert: error:")
    assert "Traceback" not in err
    assert not out.exists()
    # an existing output folder stays as it was
    out.mkdir()
    (out / "keep.txt").write_text("x")
    assert main(["convert", str(inputs["raw"]), str(bad), "-o", str(out)]) == 2
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_missing_spar_partner(inputs, tmp_path, capsys):
    shutil.copy(inputs["sdat"], tmp_path / "lonely.SDAT")
    assert main(["convert", str(tmp_path / "lonely.SDAT"), "-o", str(tmp_path / "o")]) == 2
    assert "SPAR" in capsys.readouterr().err


def test_info_aligned_and_names_the_format(inputs, capsys):
    assert main(["info", str(inputs["rda"])]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = dict(line.split(":", 1) for line in out)
    assert "Siemens RDA" in rows["format"] and "spec2nii" in rows["format"]
    assert rows["TE"].strip() == "30 ms" and rows["TR"].strip() == "2000 ms"
    assert rows["Manufacturer"].strip().lower() == "siemens"
    # every value starts in the same column (the 'Manufacturer:SIEMENS' bug)
    starts = {len(line) - len(line.split(":", 1)[1].lstrip()) for line in out}
    assert len(starts) == 1
    assert all(line.split(":", 1)[1].startswith(" ") for line in out)


def test_info_flags_assumed_values(inputs, capsys):
    assert main(["info", str(inputs["txt"])]) == 0
    out = capsys.readouterr().out
    assert "assumed:" in out and "dwelltime_s" in out


def test_info_bad_file(tmp_path, capsys):
    (tmp_path / "x.nii.gz").write_bytes(b"nope" * 100)
    assert main(["info", str(tmp_path / "x.nii.gz")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_convert_writes_every_spec2nii_output(shared_data, tmp_path, capsys):
    # the Philips QA DICOM holds a water-suppressed and a reference spectrum
    dcm = shared_data / "suspect_examples/tests/test_data/dicom/No_Name/Mrs_Dti_Qa/MRSshortTELN_401/IM-0001-0002.dcm"
    out = tmp_path / "out"
    assert main(["convert", str(dcm), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["IM-0001-0002.nii.gz", "IM-0001-0002_ref.nii.gz"]
    assert load(out / "IM-0001-0002.nii.gz").meta["WaterSuppressed"] is True
    assert load(out / "IM-0001-0002_ref.nii.gz").meta["WaterSuppressed"] is False
