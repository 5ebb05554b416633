"""Vendor readers through spec2nii, on the real files in ../shared/data.

Expected values come from the files' own headers (parsed here independently)
and from ../shared/data/README.md; NAA at 2.01 +/- 0.05 ppm checks the sign
convention and referencing of every in-vivo or brain-phantom spectrum.
"""
import warnings

import numpy as np
import pytest

from mrsquant.io import detect_format, load, read_all

from .helpers import parse_rda_header, parse_spar, peak_ppm, procpar_value

warnings.filterwarnings("ignore", message=".*DICOM readers are highly experimental.*")

NAA_PPM, NAA_TOL = 2.01, 0.05

PHILIPS = [
    "spant_examples/inst/extdata/philips_spar_sdat_WS.SDAT",
    "osprey_examples/exampledata/sdat/UnEdited/sub-01/ses-01/mrs/sub-01_ses-01_press/sub-01_PRESS_35_act.sdat",
    "osprey_examples/exampledata/sdat/UnEdited/sub-02/ses-01/mrs/sub-02_ses-01_press/sub-02_PRESS_35_act.sdat",
    "osprey_examples/exampledata/sdat/UnEdited_with_MM_data/sub-01/ses-01/mrs/sub-01_ses-01_press/"
    "sub-01_ses-01_PRESS_raw-act_noID.SDAT",
]


def naa_ppm(s):
    return peak_ppm(s.data, s.dwelltime_s, s.spectrometer_frequency_mhz, s.centre_ppm, 1.85, 2.2)


@pytest.mark.parametrize("rel", PHILIPS)
def test_philips_sdat_spar_matches_its_spar(shared_data, rel):
    sdat = shared_data / rel
    spar = parse_spar(next(p for p in sdat.parent.iterdir()
                           if p.stem == sdat.stem and p.suffix.lower() == ".spar"))
    s = load(sdat)
    assert detect_format(sdat).name == "Philips SDAT/SPAR"
    assert s.n_points == int(spar["samples"])
    assert s.shape == (() if int(spar["rows"]) == 1 else (int(spar["rows"]),))
    assert s.spectrometer_frequency_mhz == pytest.approx(int(spar["synthesizer_frequency"]) / 1e6)
    assert s.dwelltime_s == pytest.approx(1.0 / float(spar["sample_frequency"]))
    assert s.te_ms == pytest.approx(float(spar["echo_time"]))
    assert s.tr_ms == pytest.approx(float(spar["repetition_time"]))
    assert abs(naa_ppm(s) - NAA_PPM) < NAA_TOL


def test_philips_spant_values_from_readme(shared_data):
    # README: PRESS TE 30, 127.786 MHz, 1024 points (water-suppressed and water)
    for name in ("philips_spar_sdat_WS.SDAT", "philips_spar_sdat_W.SDAT"):
        s = load(shared_data / "spant_examples/inst/extdata" / name)
        assert s.n_points == 1024 and s.te_ms == 30
        assert s.spectrometer_frequency_mhz == pytest.approx(127.786, abs=1e-3)


def test_philips_spar_selects_the_pair_and_any_case(shared_data, tmp_path):
    src = shared_data / "spant_examples/inst/extdata"
    (tmp_path / "x.sdat").write_bytes((src / "philips_spar_sdat_WS.SDAT").read_bytes())
    (tmp_path / "x.Spar").write_bytes((src / "philips_spar_sdat_WS.SPAR").read_bytes())
    a, b = load(tmp_path / "x.sdat"), load(tmp_path / "x.Spar")
    ref = load(src / "philips_spar_sdat_WS.SDAT")
    assert np.array_equal(a.data, ref.data) and np.array_equal(b.data, ref.data)


def test_siemens_rda_matches_its_header(shared_data):
    path = shared_data / "suspect_examples/tests/test_data/siemens/SVS_30.rda"
    hdr = parse_rda_header(path)
    s = load(path)
    assert detect_format(path).name == "Siemens RDA"
    assert s.shape == () and s.n_points == int(hdr["VectorSize"]) == 1024  # README: (1024,)
    assert s.spectrometer_frequency_mhz == pytest.approx(float(hdr["MRFrequency"]))
    assert s.dwelltime_s == pytest.approx(float(hdr["DwellTime"]) * 1e-6)
    assert s.te_ms == float(hdr["TE"]) == 30 and s.tr_ms == float(hdr["TR"]) == 2000
    assert s.centre_ppm == 4.7  # Siemens receiver reference
    assert abs(naa_ppm(s) - NAA_PPM) < NAA_TOL


def test_siemens_ima_same_scan_as_rda(shared_data):
    d = shared_data / "suspect_examples/tests/test_data/siemens"
    ima, rda = load(d / "SVS_30.IMA"), load(d / "SVS_30.rda")
    assert detect_format(d / "SVS_30.IMA").name == "DICOM"
    assert ima.shape == () and ima.n_points == 1024
    assert (ima.te_ms, ima.tr_ms) == (30, 2000)
    assert ima.spectrometer_frequency_mhz == pytest.approx(rda.spectrometer_frequency_mhz)
    assert ima.dwelltime_s == pytest.approx(rda.dwelltime_s, rel=1e-3)
    assert abs(naa_ppm(ima) - NAA_PPM) < NAA_TOL
    # the same acquisition exported twice: same spectrum up to scale
    a, b = ima.data, rda.data
    corr = abs(np.vdot(a, b)) / np.linalg.norm(a) / np.linalg.norm(b)
    assert corr > 0.999


def test_siemens_xa_enhanced_dicom(shared_data):
    import pydicom

    path = shared_data / "suspect_examples/tests/test_data/siemens/SVS_XA60.dcm"
    ds = pydicom.dcmread(str(path), stop_before_pixels=True)
    s = load(path)
    assert s.shape == () and s.n_points == int(ds.DataPointColumns) == 1024
    assert s.spectrometer_frequency_mhz == pytest.approx(float(ds.TransmitterFrequency))
    assert 1.0 / s.dwelltime_s == pytest.approx(float(ds.SpectralWidth), rel=1e-4)
    assert (s.te_ms, s.tr_ms) == (30, 2000)
    # This is a room-temperature phantom ("svs_se_30_phantom"), no NAA: check the sign
    # with its water line and its strongest metabolite multiplet, which sit at 4.7 and
    # ~1.0 ppm as read; conjugated they would be at 4.7 and ~8.4 ppm.
    args = (s.dwelltime_s, s.spectrometer_frequency_mhz, s.centre_ppm)
    assert abs(peak_ppm(s.data, *args, 4.2, 5.2) - 4.7) < 0.1
    assert 0.8 < peak_ppm(s.data, *args, 0.5, 4.2) < 1.3
    # and nothing comparable where the conjugate would put it
    spec = np.abs(np.fft.fftshift(np.fft.fft(s.data * np.exp(-np.pi * 2 * s.time))))
    upfield = spec[(s.ppm > 0.5) & (s.ppm < 1.5)].max()
    mirror = spec[(s.ppm > 7.9) & (s.ppm < 8.9)].max()
    assert mirror < 0.2 * upfield


def test_philips_qa_dicom_two_frames(shared_data):
    # README: a QA MRS DICOM of shape 2 x 1024 (water-suppressed + reference)
    path = shared_data / "suspect_examples/tests/test_data/dicom/No_Name/Mrs_Dti_Qa/MRSshortTELN_401/IM-0001-0002.dcm"
    outs = read_all(path)
    assert len(outs) == 2 and all(o.n_points == 1024 for o in outs)
    assert [o.meta.get("WaterSuppressed") for o in outs] == [True, False]
    assert outs[0].spectrometer_frequency_mhz == pytest.approx(63.89575)
    assert outs[0].tr_ms == 2000


def test_varian_fid_folder(shared_data):
    folder = shared_data / "mm_consensus/STEAM_human_spectra/7T_STEAM_TE6ms_human.fid"
    s = load(folder)
    assert detect_format(folder).name == "Varian"
    assert s.spectrometer_frequency_mhz == pytest.approx(float(procpar_value(folder, "sfrq")))
    assert s.dwelltime_s == pytest.approx(1 / float(procpar_value(folder, "sw")))
    assert s.te_ms == pytest.approx(float(procpar_value(folder, "te")) * 1000) == 6  # folder name: TE6ms
    assert s.n_points == int(procpar_value(folder, "np")) // 2
    assert abs(naa_ppm(s) - NAA_PPM) < NAA_TOL


def test_varian_3t_te8_from_readme(shared_data):
    s = load(shared_data / "mm_consensus/MM_database/3T_MM_human_STEAM_CMRR.fid")
    assert s.te_ms == pytest.approx(8) and 2.8 < s.field_t < 3.0


def test_jmrui_text(shared_data):
    path = shared_data / "fitting_challenge_2016/basisset_JMRUI/NAA.txt"
    head = path.read_text().splitlines()
    hdr = dict(line.split(":", 1) for line in head[:20] if ":" in line)
    s = load(path)
    assert detect_format(path).name == "jMRUI"
    assert s.n_points == int(hdr["PointsInDataset"])
    assert s.dwelltime_s == pytest.approx(float(hdr["SamplingInterval"]) * 1e-3)
    assert s.spectrometer_frequency_mhz == pytest.approx(float(hdr["TransmitterFrequency"]) / 1e6)
    assert abs(naa_ppm(s) - NAA_PPM) < NAA_TOL
