"""fit.nc: the fit Dataset on disk (NetCDF4 via h5netcdf; complex split into _real/_imag).

:func:`save_fit` writes the file with h5netcdf directly, laid out exactly as
``Dataset.to_netcdf(engine="h5netcdf")`` lays it out (dimension order, variable order,
``_FillValue = NaN`` on floating-point variables, variable-length UTF-8 strings): xarray's
writer imports dask and dask.distributed to pick a lock, about 0.3 s of a one-spectrum
``mrsquant fit`` (docs/benchmarks.md, "speed").
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..files import atomic_path


def _stored(values: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """``[(suffix, array)]`` as stored: complex as ``_real``/``_imag`` floats of the same
    precision, object as variable-length strings."""
    if np.iscomplexobj(values):
        part = np.float32 if values.dtype == np.complex64 else np.float64
        return [("_real", values.real.astype(part)), ("_imag", values.imag.astype(part))]
    if values.dtype.kind in "OU":
        return [("", values.astype(str).astype(object))]
    return [("", values)]


def fit_variables(ds) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
    """``{name: (dims, array)}`` of a fit Dataset as fit.nc stores it, in xarray's order
    (data variables, then the coordinates; ``save_fit`` has no complex coordinates)."""
    out = {}
    for name, var in ds.data_vars.items():
        for suffix, values in _stored(var.values):
            out[f"{name}{suffix}"] = (tuple(var.dims), values)
    for name, var in ds.coords.items():
        values = var.values
        out[name] = (tuple(var.dims), values.astype(str).astype(object) if values.dtype.kind in "OU" else values)
    return out


def write_netcdf(path, variables: dict, attrs: dict) -> None:
    """Write ``{name: (dims, array)}`` and global ``attrs`` as NetCDF4 (h5netcdf), with the
    encoding xarray's h5netcdf writer gives (floats get ``_FillValue`` NaN, strings are
    variable-length UTF-8, no chunking or compression)."""
    import h5netcdf  # lazy: heavy (h5py)
    import h5py  # lazy: heavy

    dims: dict[str, int] = {}
    for vdims, values in variables.values():
        dims |= dict(zip(vdims, values.shape))
    with h5netcdf.File(path, mode="w", invalid_netcdf=None, decode_vlen_strings=True) as f:
        for dim, size in dims.items():
            f.dimensions[dim] = size
        for name, (vdims, values) in variables.items():
            if values.dtype == object:
                var = f.create_variable(name, dimensions=vdims, dtype=h5py.string_dtype())
            else:
                fill = values.dtype.type(np.nan) if values.dtype.kind == "f" else None
                var = f.create_variable(name, dimensions=vdims, dtype=values.dtype, fillvalue=fill)
            var[...] = values
        for key, value in attrs.items():
            f.attrs[key] = value


def _plain(ds) -> bool:
    """True when :func:`write_netcdf` stores ``ds`` as xarray would: every coordinate indexes its
    own dimension, no variable carries attrs or encoding, dtypes are float, int, complex or text."""
    variables = {**ds.data_vars, **ds.coords}
    return (all(var.dims == (name,) for name, var in ds.coords.items())
            and all(not var.attrs and not var.encoding and var.dtype.kind in "fiucOU"
                    for var in variables.values()))


def _save_with_xarray(ds, tmp) -> None:
    """xarray's own writer (any Dataset; imports dask)."""
    import xarray as xr  # lazy: heavy

    out = xr.Dataset(attrs=ds.attrs)
    for name, var in ds.data_vars.items():
        if np.iscomplexobj(var.values):
            out[f"{name}_real"] = var.real.astype(np.float32 if var.dtype == np.complex64 else np.float64)
            out[f"{name}_imag"] = var.imag.astype(np.float32 if var.dtype == np.complex64 else np.float64)
        elif var.dtype == object:
            out[name] = var.astype(str)
        else:
            out[name] = var
    out = out.assign_coords({k: (v.astype(str) if v.dtype == object else v) for k, v in ds.coords.items()})
    out.to_netcdf(tmp, engine="h5netcdf")


def save_fit(ds, path) -> Path:
    """Write a fit Dataset atomically (temp file + rename).

    The Datasets of ``FitResult.to_xarray()`` and the fit pipeline go through
    :func:`write_netcdf`; anything else (attrs on variables, non-index coordinates, booleans,
    dates) through xarray's writer, so the file is always what ``to_netcdf`` would write."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if _plain(ds):
            write_netcdf(tmp, fit_variables(ds), dict(ds.attrs))
        else:
            _save_with_xarray(ds, tmp)
    return path


def open_fit(path):
    """Read ``fit.nc`` (or a fit output folder) back into the in-memory Dataset."""
    import xarray as xr  # lazy: heavy

    path = Path(path)
    if path.is_dir():
        path = path / "fit.nc"
    with xr.open_dataset(path, engine="h5netcdf") as f:
        ds = f.load()
    out = xr.Dataset(attrs=ds.attrs, coords=ds.coords)
    for name, var in ds.data_vars.items():
        if name.endswith("_imag"):
            continue
        if name.endswith("_real") and f"{name[:-5]}_imag" in ds:
            base = name[:-5]
            out[base] = var + 1j * ds[f"{base}_imag"]
        else:
            out[name] = var
    return out
