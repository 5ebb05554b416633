"""Every Philips SDAT/SPAR in osprey_examples, spant_examples and vendor_raw/tarquin,
and the suspect DICOM/RDA files, against their own headers and their raw bytes.

The raw samples are decoded here with numpy: SDAT is VAX F-float (16-bit halves
swapped, IEEE float32 / 4), enhanced MRS DICOM (5600,0020) and the Siemens CSA
(7FE1,1010) little-endian float32 pairs, RDA float64 pairs. How each reader's data
relate to the raw samples (conjugated or not) is stated per format below; which
one is right is checked on the NAA position in test_vendor.py.
"""
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest

from mrsquant.io import load

from ..conftest import shared_data_dir
from .helpers import parse_rda_header, parse_spar

warnings.filterwarnings("ignore", message=".*DICOM readers are highly experimental.*")


def _sdat_files():
    """Collected at import time; without the data the one placeholder case skips."""
    root = shared_data_dir()
    if not root.is_dir():
        return ["(no shared data)"]
    out = []
    for folder in ("osprey_examples", "spant_examples", "vendor_raw/tarquin"):
        out += sorted(p.relative_to(root).as_posix() for p in (root / folder).rglob("*")
                      if p.suffix.lower() == ".sdat")
    return out


def vax_complex(path: Path) -> np.ndarray:
    words = np.fromfile(path, "<u2").reshape(-1, 2)[:, ::-1].copy().view("<u4").ravel()
    values = words.view("<f4").astype(float) / 4.0
    return values[0::2] + 1j * values[1::2]


@pytest.mark.parametrize("rel", _sdat_files())
def test_every_sdat(shared_data, rel):
    sdat = shared_data / rel
    spar_path = next(p for p in sdat.parent.iterdir() if p.stem == sdat.stem and p.suffix.lower() == ".spar")
    spar = parse_spar(spar_path)
    s = load(sdat)
    rows = int(spar["rows"])
    assert s.shape == (() if rows == 1 else (rows,)) and s.n_points == int(spar["samples"])
    assert s.te_ms == pytest.approx(float(spar["echo_time"]))
    assert s.tr_ms == pytest.approx(float(spar["repetition_time"]))
    assert s.spectrometer_frequency_mhz == pytest.approx(float(spar["synthesizer_frequency"]) / 1e6)
    assert 1 / s.dwelltime_s == pytest.approx(float(spar["sample_frequency"]))
    ti = float(spar.get("spectrum_inversion_time", 0) or 0)
    assert s.meta.get("InversionTime", 0) == pytest.approx(ti)
    # spec2nii conjugates SDAT data into the NIfTI-MRS convention
    np.testing.assert_allclose(s.data, np.conj(vax_complex(sdat)).reshape(s.data.shape), rtol=1e-5)


def _dicom_samples(path: Path) -> np.ndarray:
    ds = pydicom.dcmread(str(path))
    tag = (0x5600, 0x0020) if (0x5600, 0x0020) in ds else (0x7FE1, 0x1010)
    v = np.frombuffer(ds[tag].value, "<f4").astype(float)
    return v[0::2] + 1j * v[1::2]


@pytest.mark.parametrize("rel, conjugated", [
    ("suspect_examples/tests/test_data/siemens/SVS_XA60.dcm", True),
    ("suspect_examples/tests/test_data/siemens/SVS_30.IMA", False),
    ("suspect_examples/tests/test_data/dicom/No_Name/Mrs_Dti_Qa/MRSshortTELN_401/IM-0001-0002.dcm", True),
])
def test_dicom_data_values(shared_data, rel, conjugated):
    path = shared_data / rel
    raw = _dicom_samples(path)
    s = load(path)  # the first output (the Philips QA file holds two frames; the first is read)
    expected = np.conj(raw) if conjugated else raw
    np.testing.assert_allclose(s.data, expected[: s.n_points], rtol=1e-6)


def test_suspect_rda_data_values(shared_data):
    path = shared_data / "suspect_examples/tests/test_data/siemens/SVS_30.rda"
    s = load(path)
    raw = path.read_bytes()
    start = raw.index(b">>> End of header <<<") + len(b">>> End of header <<<\r\n")
    v = np.frombuffer(raw[start:], "<f8")
    assert v.size == 2 * int(parse_rda_header(path)["VectorSize"])
    np.testing.assert_allclose(s.data, v[0::2] + 1j * v[1::2], rtol=1e-12)
