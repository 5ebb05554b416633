"""NIfTI-MRS and challenge-text readers, and the Spectra -> NIfTI-MRS -> Spectra round trip."""
import json

import nibabel as nib
import numpy as np
import pytest

from mrsquant import Spectra
from mrsquant.io import load, save

from .helpers import peak_ppm


def header_ext(path):
    img = nib.load(str(path))
    codes = img.header.extensions.get_codes()
    return img, json.loads(img.header.extensions[codes.index(44)].get_content())


@pytest.mark.parametrize("name, shape", [
    ("metab_raw.nii.gz", (4, 16)),    # README: 4096 points x 4 coils x 16 dynamics
    ("wref_raw.nii.gz", None),
    ("quant_raw.nii.gz", None),
    ("ecc.nii.gz", None),
    ("metab.nii.gz", ()),
    ("metab_int_freq.nii.gz", ()),
])
def test_nifti_mrs_examples(shared_data, name, shape):
    path = shared_data / "nifti_mrs_examples/tests/test_data" / name
    img, hdr = header_ext(path)
    s = load(path)
    assert s.n_points == img.shape[3]
    assert s.shape == img.shape[4:]
    if shape is not None:
        assert s.shape == shape
    f0 = hdr["SpectrometerFrequency"]
    assert s.spectrometer_frequency_mhz == pytest.approx(float(f0[0] if isinstance(f0, list) else f0))
    assert s.dwelltime_s == pytest.approx(float(img.header["pixdim"][4]))
    assert s.te_ms == pytest.approx(hdr["EchoTime"] * 1000) == 11  # README: STEAM TE 11
    if "RepetitionTime" in hdr:
        assert s.tr_ms == pytest.approx(hdr["RepetitionTime"] * 1000)
    assert 6.9 < s.field_t < 7.1


def test_integer_frequency_edge_case(shared_data):
    _, hdr = header_ext(shared_data / "nifti_mrs_examples/tests/test_data/metab_int_freq.nii.gz")
    assert hdr["SpectrometerFrequency"] == [297]  # the edge case: an int, not a float
    s = load(shared_data / "nifti_mrs_examples/tests/test_data/metab_int_freq.nii.gz")
    assert isinstance(s.spectrometer_frequency_mhz, float) and s.spectrometer_frequency_mhz == 297.0


def test_processed_7t_naa(shared_data):
    s = load(shared_data / "nifti_mrs_examples/tests/test_data/metab.nii.gz")
    ppm = peak_ppm(s.data, s.dwelltime_s, s.spectrometer_frequency_mhz, s.centre_ppm, 1.85, 2.2)
    assert abs(ppm - 2.01) < 0.05


def test_challenge_text(challenge):
    s = load(challenge / "datasets_text/dataset1.txt")
    # README: 123.2 MHz, 4000 Hz, 2048 points, TE 30 ms (text has no header: assumed, flagged)
    assert s.n_points == 2048 and s.dwelltime_s == 1 / 4000 and s.spectrometer_frequency_mhz == 123.2
    assert s.te_ms == 30 and "dwelltime_s" in s.meta["AssumedParameters"]
    assert abs(peak_ppm(s.data, s.dwelltime_s, 123.2, 4.65, 1.85, 2.2) - 2.01) < 0.05


@pytest.mark.parametrize("rel", [
    "nifti_mrs_examples/tests/test_data/metab_raw.nii.gz",
    "spant_examples/inst/extdata/philips_spar_sdat_WS.SDAT",
    "suspect_examples/tests/test_data/siemens/SVS_30.rda",
    "fitting_challenge_2016/datasets_LCModel/dataset3.RAW",
])
def test_spectra_nifti_round_trip_is_lossless(shared_data, tmp_path, rel):
    s = load(shared_data / rel)
    back = load(save(s, tmp_path / "x.nii.gz"))
    assert np.array_equal(back.data, s.data)
    assert back.dims == s.dims
    for attr in ("dwelltime_s", "spectrometer_frequency_mhz", "nucleus", "te_ms", "tr_ms", "centre_ppm"):
        assert getattr(back, attr) == getattr(s, attr), attr


def test_synthetic_round_trip_with_known_peak(tmp_path):
    n, dt, f0 = 1024, 2e-4, 127.7
    t = np.arange(n) * dt
    # a resonance at 3.0 ppm in the NIfTI-MRS convention (docs/conventions.md)
    fid = np.exp(-2j * np.pi * (3.0 - 4.65) * f0 * t - t / 0.1)
    s = Spectra(data=np.stack([fid, 2 * fid]), dims=("dyn",), dwelltime_s=dt,
                spectrometer_frequency_mhz=f0, te_ms=35, tr_ms=2000)
    for name in ("a.nii.gz", "a.nii"):
        back = load(save(s, tmp_path / name))
        assert np.array_equal(back.data, s.data) and back.dims == ("dyn",)
        assert abs(peak_ppm(back.data[0], dt, f0, 4.65, 0.5, 4.5) - 3.0) < 0.01
    raw = load(save(s.isel(dyn=0), tmp_path / "a.RAW"))
    assert np.array_equal(raw.data, fid)


def test_osprey_7t_water_reference_32_coils(shared_data):
    # README: NIfTI-MRS 7T STEAM water reference (32 coils)
    path = shared_data / "osprey_examples/exampledata/nifti-mrs/sub-01/ses-01/mrs/sub-01_ses-01_SVS-ref.nii.gz"
    img, hdr = header_ext(path)
    s = load(path)
    assert s.dims == ("coil",) and s.shape == (32,) and s.n_points == img.shape[3]
    assert s.te_ms == pytest.approx(hdr["EchoTime"] * 1000) and 6.9 < s.field_t < 7.1
    # unsuppressed water: the coil-combined (here: magnitude-summed) peak sits at the centre
    mag = np.abs(np.fft.fftshift(np.fft.fft(s.data, axis=-1), axes=-1)).sum(axis=0)
    assert abs(s.ppm[np.argmax(mag)] - 4.65) < 0.1
