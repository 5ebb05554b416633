"""The non-TWIX files of ../shared/data/vendor_raw: GE P-file rev 9, Siemens XA60
enhanced DICOM (64 transients + the scanner average), old Siemens DICOM, RDA
VA25, Philips SDAT TE 30/135 (TARQUIN).

Truth: the vendor_raw README's header facts, the files' own headers (SPAR, RDA,
the P-file's SAGE dump ``.shf``, DICOM tags), raw bytes read here with numpy,
and dcm2niix's independent conversion of the XA60 scan (``Ref/``).
"""
import json
import warnings

import nibabel as nib
import numpy as np
import pydicom
import pytest
from scipy.ndimage import median_filter

from mrsquant.errors import InputError
from mrsquant.io import detect_format, load, read_all

from .helpers import parse_rda_header, parse_spar

warnings.filterwarnings("ignore", message=".*DICOM readers are highly experimental.*")

GE = "vendor_raw/tarquin/data/ge"
QA = "vendor_raw/dcm_qa_spec"
AVERAGE = "In/31_svs_se/31001_1.3.12.2.1107.5.2.61.237021.2026060513334674585008321.dcm"


def shf_values(path, key) -> list[str]:
    """Every ``key value`` line of a GE SAGE header dump (.shf)."""
    out = []
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == key:
            out.append(parts[1])
    return out


@pytest.mark.parametrize("name", ["P1751_1.5T_030_2000.7", "P1802_1.5T_030_2000.7"])
def test_ge_pfile_rev9_metabolite_and_reference(shared_data, name):
    path = shared_data / GE / name
    assert detect_format(path).name == "GE P-file"
    met, ref = read_all(path)
    shf = path.with_name(name + ".shf")
    n_sig, n_ref = int(shf_values(shf, "num_sig_frames")[0]), int(shf_values(shf, "num_ref_frames")[0])
    # README: 1 coil, 2048 points, 16 water-suppressed + 8 reference frames, 2500 Hz, TE 30, TR 2000
    assert met.dims == ref.dims == ("coil", "dyn")
    assert met.shape == (1, n_sig) == (1, 16) and ref.shape == (1, n_ref) == (1, 8)
    assert met.n_points == 2048
    assert 1 / met.dwelltime_s == pytest.approx(float(shf_values(shf, "width")[0])) == 2500
    assert (met.te_ms, met.tr_ms) == (30, 2000) == (ref.te_ms, ref.tr_ms)
    assert met.spectrometer_frequency_mhz == pytest.approx(63.872622)
    assert ref.meta["ConversionOutputSuffix"] == "_ref"
    # data values: complex int32 frames after the 61464-byte header: 1 baseline frame,
    # then the reference frames, then the water-suppressed frames
    raw = np.fromfile(path, dtype="<i4", offset=61464).astype(float)
    frames = (raw[0::2] + 1j * raw[1::2]).reshape(1 + n_ref + n_sig, 2048)
    np.testing.assert_allclose(ref.data[0], frames[1:1 + n_ref], rtol=1e-6)
    np.testing.assert_allclose(met.data[0], frames[1 + n_ref:], rtol=1e-6)
    # sign convention, as far as these files allow (their content is not documented): as read,
    # the water reference peaks at 4.6 ppm and the water-suppressed lines lie upfield of water;
    # conjugated they would lie at 5.4-8.3 ppm, where a 1H brain or phantom spectrum has none
    spec = np.abs(np.fft.fftshift(np.fft.fft(met.data[0].mean(axis=0) * np.exp(-np.pi * 3 * met.time))))
    ppm = met.ppm
    wspec = np.abs(np.fft.fftshift(np.fft.fft(ref.data[0].mean(axis=0))))
    assert abs(ppm[np.argmax(wspec)] - 4.65) < 0.1
    lines = spec - median_filter(spec, 51)  # narrow lines above the broad water tail (51 points ~ 1 ppm)
    assert lines[(ppm > 1.0) & (ppm < 3.9)].max() > 10 * lines[(ppm > 5.4) & (ppm < 8.3)].max()


def test_xa60_64_transients_and_scanner_average(shared_data):
    folder = shared_data / QA / "In/30_svs_se"
    s = load(folder)
    ds = pydicom.dcmread(str(next(folder.iterdir())), stop_before_pixels=True)
    assert s.dims == ("dyn",) and s.shape == (64,)  # README: (1,1,1,1024,64), DIM_DYN
    assert s.n_points == int(ds.DataPointColumns) == 1024
    assert 1 / s.dwelltime_s == pytest.approx(float(ds.SpectralWidth)) == 2000
    assert (s.te_ms, s.tr_ms) == (30, 4000)
    assert s.spectrometer_frequency_mhz == pytest.approx(float(ds.TransmitterFrequency)) == pytest.approx(297.154513)
    avg = load(shared_data / QA / AVERAGE)
    assert avg.shape == () and avg.n_points == 1024
    # README's known answer: the average equals the mean of the 64 transients
    m = s.data.mean(axis=0)
    corr = abs(np.vdot(m, avg.data)) / np.linalg.norm(m) / np.linalg.norm(avg.data)
    assert corr > 0.99999
    assert np.linalg.norm(avg.data) / np.linalg.norm(m) == pytest.approx(0.9988, abs=5e-4)


def test_xa60_average_equals_dcm2niix(shared_data):
    avg = load(shared_data / QA / AVERAGE)
    ref = nib.load(str(shared_data / QA / "Ref/svs_se_31.nii"))
    side = json.loads((shared_data / QA / "Ref/svs_se_31.json").read_text())
    np.testing.assert_allclose(avg.data, np.asarray(ref.dataobj).ravel(), rtol=1e-6)
    np.testing.assert_allclose(avg.affine, ref.affine, atol=1e-3)  # geometry, 20 mm voxel
    np.testing.assert_allclose(np.linalg.norm(avg.affine[:3, :3], axis=0), side["AcquisitionVoxelSize"], atol=1e-3)
    assert avg.te_ms == side["EchoTime"] * 1000 and avg.tr_ms == side["RepetitionTime"] * 1000
    assert 1 / avg.dwelltime_s == pytest.approx(side["SpectralWidth"])


def test_va21_old_siemens_dicom_refused_with_reason(shared_data):
    with pytest.raises(InputError, match="2002B.*NumberOfFrames.*RDA") as e:
        load(shared_data / "vendor_raw/tarquin/data/siemens/SIEMENSTEST")
    assert "\n" not in str(e.value)


def test_va25_rda(shared_data):
    path = shared_data / "vendor_raw/tarquin/data/siemens/example.rda"
    hdr = parse_rda_header(path)
    s = load(path)
    assert s.shape == () and s.n_points == int(hdr["VectorSize"]) == 2048
    assert s.dwelltime_s == pytest.approx(float(hdr["DwellTime"]) * 1e-6) == pytest.approx(5e-4)
    assert (s.te_ms, s.tr_ms) == (float(hdr["TE"]), float(hdr["TR"])) == (30, 1500)
    assert s.spectrometer_frequency_mhz == pytest.approx(float(hdr["MRFrequency"])) == pytest.approx(63.68399)
    assert hdr["SoftwareVersion[0]"].startswith("syngo MR 2004A")
    # data value: the complex doubles after the header
    raw = path.read_bytes()
    start = raw.index(b">>> End of header <<<") + len(b">>> End of header <<<\r\n")
    values = np.frombuffer(raw[start:], "<f8")
    np.testing.assert_allclose(s.data, values[0::2] + 1j * values[1::2], rtol=1e-12)


@pytest.mark.parametrize("stem", ["svs_30_WS", "svs_30_ref", "svs_135_WS", "svs_135_ref"])
def test_old_philips_spar_without_inversion_time(shared_data, stem):
    sdat = shared_data / "vendor_raw/tarquin/data/phillips" / f"{stem}.SDAT"
    spar = parse_spar(sdat.with_suffix(".SPAR"))
    assert "spectrum_inversion_time" not in spar  # why spec2nii alone fails (README)
    s = load(sdat)
    assert s.shape == () and s.n_points == int(spar["samples"]) == 2048
    assert s.te_ms == float(spar["echo_time"]) == (30 if "_30_" in stem else 135)
    assert s.tr_ms == float(spar["repetition_time"]) == 1500
    assert s.spectrometer_frequency_mhz == pytest.approx(float(spar["synthesizer_frequency"]) / 1e6)
    assert 1 / s.dwelltime_s == pytest.approx(float(spar["sample_frequency"])) == 2000
    assert "InversionTime" not in s.meta


def test_osprey_nifti_mrs_reference_32_coils(shared_data):
    s = load(shared_data / "osprey_examples/exampledata/nifti-mrs/sub-01/ses-01/mrs/sub-01_ses-01_SVS-ref.nii.gz")
    # README: NIfTI-MRS 7T STEAM water reference, 32 coils
    assert s.dims == ("coil",) and s.shape == (32,)
    assert (s.te_ms, s.tr_ms) == (11, 5000) and s.spectrometer_frequency_mhz == pytest.approx(297.219948)
