"""fit.nc: the fit Dataset on disk (NetCDF4 via h5netcdf; complex split into _real/_imag)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..files import atomic_path


def save_fit(ds, path) -> Path:
    """Write a fit Dataset atomically (temp file + rename)."""
    import xarray as xr

    path = Path(path)
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
    with atomic_path(path) as tmp:
        out.to_netcdf(tmp, engine="h5netcdf")
    return path


def open_fit(path):
    """Read ``fit.nc`` (or a fit output folder) back into the in-memory Dataset."""
    import xarray as xr

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
