import numpy as np
import pytest

from mrsquant import Spectra, axes
from mrsquant.errors import MetadataError


def make(n=256, **kw):
    kw.setdefault("dwelltime_s", 2.5e-4)
    kw.setdefault("spectrometer_frequency_mhz", 123.2)
    return Spectra(data=np.ones(n, complex), dims=(), **kw)


def test_singlet_lands_at_its_ppm():
    n, dt, f0 = 2048, 2.5e-4, 123.2
    t = axes.time_axis(n, dt)
    # NIfTI-MRS convention: exp(+2j pi hz t) with hz = ppm_to_hz(ppm) (negative above 4.65)
    fid = np.exp(2j * np.pi * axes.ppm_to_hz(2.01, f0) * t)
    s = Spectra(data=fid, dwelltime_s=dt, spectrometer_frequency_mhz=f0)
    peak = s.ppm[np.argmax(np.abs(s.spectrum()))]
    assert abs(peak - 2.01) < 0.5 / (n * dt) / f0 + 1e-9


@pytest.mark.parametrize("kw, words", [
    ({"te_ms": 0.03}, "seconds"),
    ({"te_ms": 30000}, "microseconds"),
    ({"tr_ms": 2.0}, "seconds"),
    ({"dwelltime_s": 0.25}, "ms"),
    ({"spectrometer_frequency_mhz": 123.2e6}, "Hz"),
    ({"nucleus": "1X"}, "nucleus"),
])
def test_wrong_units_are_errors(kw, words):
    with pytest.raises(MetadataError, match=words):
        make(**kw)


def test_nan_and_empty_rejected():
    with pytest.raises(MetadataError, match="NaN"):
        Spectra(data=np.full(64, np.nan, complex))
    with pytest.raises(MetadataError, match="no data"):
        Spectra(data=np.zeros(0, complex))


def test_dims_must_match():
    with pytest.raises(MetadataError, match="dims"):
        Spectra(data=np.ones((4, 64), complex), dims=())


def test_xarray_round_trip():
    s = Spectra(data=np.random.default_rng(0).normal(size=(3, 128)) + 0j, dims=("dyn",), te_ms=30, tr_ms=2000)
    da = s.to_xarray()
    assert da.dims == ("dyn", "time")
    assert np.allclose(da.ppm.values, s.ppm)
    back = Spectra.from_xarray(da)
    assert np.array_equal(back.data, s.data) and back.te_ms == 30 and back.dims == ("dyn",)
