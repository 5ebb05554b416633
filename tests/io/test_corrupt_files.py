"""Every format: an empty file, a truncated file and random bytes with that
extension give exit status 2, one line on stderr, and nothing in the output folder.

Truncation keeps 50 %, 90 % and 99.9 % of a real file (the last cuts into the
final samples), so a check that only catches a lost header would fail here.
"""
import shutil

import numpy as np
import pytest

from mrsquant.cli import main

D = "vendor_raw"
#: format -> (a real file, the files that must sit beside it (a suffix of the same stem, or a
#: name in the same folder), the file name used)
FORMATS = {
    "twix_vb": (f"{D}/pymapvbvd/tests/test_data/meas_MID311_STEAM_wref1_FID115674.dat", [], "scan.dat"),
    "twix_pulseq": (f"{D}/pulseq_tutorials/01_from_FID_to_PRESS/data/06_PRESS_center.dat",
                    [".seq"], "scan.dat"),
    "twix_vd": (f"{D}/twixtools/example_data/gre.dat", [], "scan.dat"),
    "rda": ("suspect_examples/tests/test_data/siemens/SVS_30.rda", [], "scan.rda"),
    "ima": ("suspect_examples/tests/test_data/siemens/SVS_30.IMA", [], "scan.IMA"),
    "dicom_xa": (f"{D}/dcm_qa_spec/In/31_svs_se/31001_1.3.12.2.1107.5.2.61.237021.2026060513334674585008321.dcm",
                 [], "scan.dcm"),
    "dicom_philips": ("suspect_examples/tests/test_data/dicom/No_Name/Mrs_Dti_Qa/MRSshortTELN_401/IM-0001-0002.dcm",
                      [], "scan.dcm"),
    "sdat": ("spant_examples/inst/extdata/philips_spar_sdat_WS.SDAT", [".SPAR"], "scan.SDAT"),
    "pfile": (f"{D}/tarquin/data/ge/P1751_1.5T_030_2000.7", [], "scan.7"),
    # a .RAW states no length; LCModel's control file beside it does (NUNFIL)
    "lcmodel_raw": ("lcmodel_test/test_lcm/data.raw", ["control.file"], "data.raw"),
    "nifti_gz": ("nifti_mrs_examples/tests/test_data/metab_raw.nii.gz", [], "scan.nii.gz"),
    "jmrui_txt": ("fitting_challenge_2016/basisset_JMRUI/NAA.txt", [], "scan.txt"),
    "text": ("fitting_challenge_2016/datasets_text/dataset5.txt", [], "scan.txt"),
}
#: the partner file keeps its content (a truncated SDAT with a good SPAR is the case)
FRACTIONS = (0.5, 0.9, 0.999)
#: bytes after the last data sample that carry no data (TWIX: the end-of-acquisition block and
#: padding); the 0.999 cut is moved to 64 bytes before that
PADDING = {"twix_vb": 8192, "twix_pulseq": 256}


def run_convert(src, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    code = main(["convert", str(src), "-o", str(out)])
    err = capsys.readouterr().err.strip()
    return code, err, sorted(p.name for p in out.iterdir())


def place(shared_data, tmp_path, key, content: bytes):
    rel, partners, name = FORMATS[key]
    src = shared_data / rel
    dst = tmp_path / name
    dst.write_bytes(content)
    for partner in partners:
        if partner.startswith("."):
            shutil.copy(src.with_suffix(partner), dst.with_suffix(partner))
        else:
            shutil.copy(src.parent / partner, dst.parent / partner)
    return dst


def assert_refused(code, err, listing):
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("mrsquant convert: error:"), err
    assert "Traceback" not in err
    assert listing == []


@pytest.mark.parametrize("key", sorted(FORMATS))
def test_empty(shared_data, tmp_path, capsys, key):
    dst = place(shared_data, tmp_path, key, b"")
    code, err, listing = run_convert(dst, tmp_path, capsys)
    assert_refused(code, err, listing)
    assert "empty" in err


@pytest.mark.parametrize("key", sorted(FORMATS))
def test_random_bytes(shared_data, tmp_path, capsys, key):
    junk = np.random.default_rng(13).integers(0, 256, 50_000, dtype=np.uint8).tobytes()
    dst = place(shared_data, tmp_path, key, junk)
    code, err, listing = run_convert(dst, tmp_path, capsys)
    assert_refused(code, err, listing)


@pytest.mark.parametrize("fraction", FRACTIONS)
@pytest.mark.parametrize("key", sorted(k for k in FORMATS if k != "text"))
def test_truncated(shared_data, tmp_path, capsys, key, fraction):
    full = (shared_data / FORMATS[key][0]).read_bytes()
    cut = int(len(full) * fraction)
    if fraction == FRACTIONS[-1] and key in PADDING:
        cut = len(full) - PADDING[key] - 64
    dst = place(shared_data, tmp_path, key, full[:cut])
    code, err, listing = run_convert(dst, tmp_path, capsys)
    assert_refused(code, err, listing)
    if key != "twix_vd":  # the VE11 file is refused as not spectroscopy at any length
        assert any(w in err for w in ("truncated", "corrupt", "cut short", "ends inside")), err


@pytest.mark.parametrize("fraction", (0.9, 0.999))
def test_truncated_text_inside_a_line(shared_data, tmp_path, capsys, fraction):
    # a headerless text FID states no length: only a cut inside a line can be seen
    # (a cut at a line boundary cannot; docs/file_formats.md says so)
    full = (shared_data / FORMATS["text"][0]).read_bytes()
    cut = int(len(full) * fraction)
    assert full[cut - 1:cut] != b"\n"
    dst = place(shared_data, tmp_path, "text", full[:cut])
    code, err, listing = run_convert(dst, tmp_path, capsys)
    assert_refused(code, err, listing)
    assert "truncated" in err


def test_truncated_nifti_uncompressed(shared_data, tmp_path, capsys):
    from mrsquant.io import load, save

    save(load(shared_data / FORMATS["nifti_gz"][0]), tmp_path / "full.nii")
    full = (tmp_path / "full.nii").read_bytes()
    (tmp_path / "full.nii").unlink()
    for fraction in FRACTIONS:
        (tmp_path / "scan.nii").write_bytes(full[: int(len(full) * fraction)])
        code, err, listing = run_convert(tmp_path / "scan.nii", tmp_path, capsys)
        assert_refused(code, err, listing)
        shutil.rmtree(tmp_path / "out")


@pytest.mark.parametrize("content", ["empty", "random", 0.5, 0.9, 0.999])
def test_varian_fid_folder(shared_data, tmp_path, capsys, content):
    folder = tmp_path / "scan.fid"
    shutil.copytree(shared_data / "mm_consensus/STEAM_human_spectra/7T_STEAM_TE6ms_human.fid", folder)
    full = (folder / "fid").read_bytes()
    if content == "empty":
        data = b""
    elif content == "random":
        data = np.random.default_rng(13).integers(0, 256, len(full), dtype=np.uint8).tobytes()
    else:
        data = full[: int(len(full) * content) // 4 * 4]  # whole 4-byte words: no accidental misfit
    (folder / "fid").write_bytes(data)
    code, err, listing = run_convert(folder, tmp_path, capsys)
    assert_refused(code, err, listing)


def test_text_dat_is_still_text(tmp_path):
    from mrsquant.io import detect_format

    (tmp_path / "fid.dat").write_text("1.0 2.0 3.0 4.0\n5.0 6.0 7.0 8.0\n")
    assert detect_format(tmp_path / "fid.dat").name == "text"


def test_good_file_before_a_truncated_one_writes_nothing(shared_data, tmp_path, capsys):
    good = shared_data / FORMATS["twix_vb"][0]
    full = (shared_data / FORMATS["pfile"][0]).read_bytes()
    bad = place(shared_data, tmp_path, "pfile", full[:-1000])
    out = tmp_path / "out"
    assert main(["convert", str(good), str(bad), "-o", str(out)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not out.exists()


def test_issue_example_rda_first_3000_bytes(shared_data, tmp_path, capsys):
    # issue 13: this converted with exit 0 and no message
    full = (shared_data / FORMATS["rda"][0]).read_bytes()
    dst = place(shared_data, tmp_path, "rda", full[:3000])
    code, err, listing = run_convert(dst, tmp_path, capsys)
    assert_refused(code, err, listing)
    assert "truncated" in err
