"""FitTable (issue 21): the numpy-only fit table the pipeline writes its outputs from is the
fit Dataset variable for variable, writes the same fit.nc, stacks batches as xarray.concat
does, and a one-spectrum CLI fit never imports xarray, pandas or dask."""
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from mrsquant.app.pipeline import _failed_dataset, _fit_tables, _stack
from mrsquant.fitting.store import open_fit, save_fit
from mrsquant.fitting.synthetic import synthetic_fit
from mrsquant.fitting.table import FitTable, concat_spectra
from mrsquant.qc.metrics import assess


def _tables():
    return _fit_tables([synthetic_fit(3, seed=4), synthetic_fit(2, seed=5)])


def test_table_is_the_dataset():
    res = synthetic_fit(3, seed=1)
    table, ds = res.to_table(), res.to_xarray()
    assert isinstance(ds, xr.Dataset) and list(table.data_vars) == list(ds.data_vars)
    assert list(table.coords) == list(ds.coords) and table.sizes == dict(ds.sizes)
    for name in [*ds.data_vars, *ds.coords]:
        assert table[name].dims == ds[name].dims, name
        np.testing.assert_array_equal(table[name].values, ds[name].values)
    assert table.attrs == ds.attrs
    np.testing.assert_array_equal(table["amplitude"].sel(metabolite="Cr").values,
                                  ds["amplitude"].sel(metabolite="Cr").values)
    one, one_ds = table.isel(spectrum=1), ds.isel(spectrum=1)
    assert float(one["snr"]) == float(one_ds["snr"]) and one["components"].dims == one_ds["components"].dims
    assert str(one["spectrum"].values) == str(one_ds["spectrum"].values)


def test_status_rules_same_on_table_and_dataset():
    res = synthetic_fit(4, seed=3, noise_sd=10.0)      # two of the four are flagged low SNR
    status, reasons = assess(res.to_table())
    assert (status, reasons) == assess(res.to_xarray()) and status.count("low SNR") == 2


def test_stack_equals_xarray_concat_and_fit_nc_identical(tmp_path):
    tables = _tables()
    tables.append(_failed_dataset(tables[0], {"bad": "not an LCModel .RAW file"}, {}))
    stacked = concat_spectra(tables)
    assert stacked is not None
    ref = xr.concat([t.to_xarray() for t in tables], dim="spectrum", data_vars="minimal", coords="minimal",
                    compat="override", join="outer")
    xr.testing.assert_identical(stacked.to_xarray(), ref)
    assert list(stacked["status"].values)[-1] == "failed: not an LCModel .RAW file"
    assert np.isnan(stacked["amplitude"].values[-1]).all()
    save_fit(stacked, tmp_path / "table.nc")
    save_fit(ref, tmp_path / "xarray.nc")
    xr.testing.assert_identical(open_fit(tmp_path / "table.nc"), open_fit(tmp_path / "xarray.nc"))


def test_batches_on_different_axes_fall_back_to_xarray():
    a = synthetic_fit(2, seed=1).to_table()
    b = synthetic_fit(2, seed=2).to_table()
    b.set_coord("ppm", b["ppm"].values + 0.01)
    assert concat_spectra([a, b]) is None
    out = _stack([a, b])
    assert isinstance(out, xr.Dataset) and out.sizes["spectrum"] == 4 and out.sizes["ppm"] > a.sizes["ppm"]


def test_table_refuses_shape_mismatch():
    t = FitTable(coords={"spectrum": ["a", "b"]})
    with pytest.raises(ValueError, match="dimension spectrum has size 3"):
        t["snr"] = ("spectrum", np.zeros(3))


def test_single_spectrum_cli_fit_imports_no_xarray(tmp_path, challenge):
    raw = challenge / "datasets_LCModel" / "dataset1.RAW"
    basis = challenge / "basisset_LCModel" / "press3T_30ms.BASIS"
    heavy = ("xarray", "pandas", "dask", "scipy.ndimage", "scipy.optimize")   # scipy.fft (+ special): the fit
    code = ("import sys; from mrsquant.cli import main; "
            f"main(['fit', {str(raw)!r}, '--basis', {str(basis)!r}, '-o', {str(tmp_path / 'out')!r}, '--quiet']); "
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (tmp_path / "out" / "concentrations.tsv").exists(), out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
