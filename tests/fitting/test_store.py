"""fit.nc writer (issue 21): save_fit writes with h5netcdf directly and gives the file xarray's
own writer gives (same variables, order, attrs, values and encodings), without importing
dask.distributed; Datasets it does not lay out itself go through xarray's writer."""
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from mrsquant.fitting.store import _plain, _save_with_xarray, open_fit, save_fit
from mrsquant.fitting.synthetic import synthetic_fit


def _fit_dataset():
    ds = synthetic_fit(3, seed=2).to_xarray()
    ds["status"] = ("spectrum", np.array(["ok", "low SNR", "ok; caf\u00e9"], dtype=object))
    ds["at_bounds"] = ("spectrum", np.array(["", "shift at bound", np.nan], dtype=object))
    ds = ds.assign_coords(water_ppm=np.linspace(3.7, 5.7, 5))
    ds["water_fit"] = (("spectrum", "water_ppm"), (np.arange(15.0) + 1j).reshape(3, 5).astype(np.complex64))
    return ds


def _assert_same_file(a, b):
    with xr.open_dataset(a, engine="h5netcdf") as fa, xr.open_dataset(b, engine="h5netcdf") as fb:
        xr.testing.assert_identical(fa, fb)
        assert list(fa.variables) == list(fb.variables) and list(fa.dims) == list(fb.dims)
        for name in fa.variables:
            assert fa[name].dtype == fb[name].dtype, name
            strip = [{k: v for k, v in f[name].encoding.items() if k != "source"} for f in (fa, fb)]
            assert repr(strip[0]) == repr(strip[1]), name
        assert {k: (type(v), repr(v)) for k, v in fa.attrs.items()} == \
            {k: (type(v), repr(v)) for k, v in fb.attrs.items()}


def test_direct_writer_matches_xarrays_writer(tmp_path):
    ds = _fit_dataset()
    assert _plain(ds)
    save_fit(ds, tmp_path / "direct.nc")
    _save_with_xarray(ds, tmp_path / "xarray.nc")
    _assert_same_file(tmp_path / "direct.nc", tmp_path / "xarray.nc")


def test_open_fit_round_trip(tmp_path):
    ds = _fit_dataset()
    back = open_fit(save_fit(ds, tmp_path / "fit.nc"))
    for name in ("data", "fit", "components", "amplitude", "crlb_percent", "water_fit"):
        np.testing.assert_array_equal(back[name].values, ds[name].values)
    assert back["water_fit"].dtype == np.complex64 and back["data"].dtype == ds["data"].dtype
    assert list(back["status"].values) == ["ok", "low SNR", "ok; caf\u00e9"]
    assert list(back["at_bounds"].values) == ["", "shift at bound", "nan"]   # object -> str, as before
    assert list(back.metabolite.values) == list(ds.metabolite.values)
    assert {k: str(v) for k, v in back.attrs.items()} == {k: str(v) for k, v in ds.attrs.items()}  # NaN attrs


@pytest.mark.parametrize("change", ["var_attrs", "bool", "non_index_coord"])
def test_other_datasets_use_xarrays_writer(tmp_path, change):
    ds = _fit_dataset()
    if change == "var_attrs":
        ds["snr"].attrs["units"] = "1"
    elif change == "bool":
        ds["flag"] = ("spectrum", np.array([True, False, True]))
    else:
        ds = ds.assign_coords(subject=("spectrum", ["a", "b", "c"]))
    assert not _plain(ds)
    save_fit(ds, tmp_path / "fit.nc")
    _save_with_xarray(ds, tmp_path / "xarray.nc")
    _assert_same_file(tmp_path / "fit.nc", tmp_path / "xarray.nc")


def test_save_fit_does_not_import_dask_distributed(tmp_path):
    code = ("import sys; from mrsquant.fitting.synthetic import synthetic_fit; "
            "from mrsquant.fitting.store import save_fit; "
            f"save_fit(synthetic_fit(1).to_xarray(), {str(tmp_path / 'fit.nc')!r}); "
            "print('distributed' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
