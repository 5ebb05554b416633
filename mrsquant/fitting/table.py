"""``FitTable``: the fit Dataset of docs/fit_outputs.md as plain numpy arrays.

The fit pipeline writes concentrations.tsv, qc.tsv and fit.nc from this table instead of an
``xarray.Dataset``: building one Dataset makes xarray import dask (it checks every array
against the dask array type), about 0.7 s of a one-spectrum ``mrsquant fit``
(docs/benchmarks.md, "speed"). It offers the part of the Dataset interface the pipeline, the
status rules (``qc.metrics.assess``), the LCModel and BIDS writers and ``save_fit`` use:
``ds[name].values / .dims / .sel(metabolite=m)``, ``name in ds``, ``ds.spectrum``,
``ds.sizes``, ``ds.attrs``, ``ds.data_vars``, ``ds.coords``, ``ds.isel(spectrum=i)``, and
:meth:`FitTable.to_xarray` gives the Dataset itself (what ``FitResult.to_xarray`` returns,
variable for variable).

Every coordinate indexes its own dimension (``spectrum``, ``metabolite``, ``basis_metabolite``,
``ppm``, ``water_ppm``); an integer ``isel`` keeps the dropped coordinate as a scalar, as
xarray does.
"""
from __future__ import annotations

import numpy as np


class Variable:
    """One named array with its dimension names (the subset of ``xarray.Variable`` used here)."""

    __slots__ = ("dims", "values", "_table")
    attrs: dict = {}
    encoding: dict = {}

    def __init__(self, dims, values, table=None):
        self.dims = (dims,) if isinstance(dims, str) else tuple(dims)
        self.values = np.asarray(values)
        self._table = table
        if self.values.ndim != len(self.dims):
            raise ValueError(f"{len(self.dims)} dims {self.dims} for an array of shape {self.values.shape}")

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def shape(self):
        return self.values.shape

    def sel(self, **labels) -> Variable:
        """Select one label per named dimension (``sel(metabolite="tCr")``)."""
        out = self
        for dim, label in labels.items():
            axis = out.dims.index(dim)
            index = _label_index(self._table.coords[dim].values, label, dim)
            out = Variable(out.dims[:axis] + out.dims[axis + 1:], np.take(out.values, index, axis=axis), self._table)
        return out

    def __float__(self):
        return float(self.values)

    def __repr__(self):
        return f"Variable({self.dims}, shape {self.values.shape}, {self.values.dtype})"


def _label_index(labels: np.ndarray, label, dim: str) -> int:
    hits = np.flatnonzero(labels == label)
    if not hits.size:
        raise KeyError(f"{label!r} not in {dim}")
    return int(hits[0])


class FitTable:
    """Data variables and index coordinates as numpy arrays, plus global attrs."""

    def __init__(self, data_vars=None, coords=None, attrs=None):
        self._coords: dict[str, Variable] = {}
        self._vars: dict[str, Variable] = {}
        self.attrs: dict = dict(attrs or {})
        for name, values in (coords or {}).items():
            self.set_coord(name, values)
        for name, (dims, values) in (data_vars or {}).items():
            self[name] = (dims, values)

    # -- the Dataset interface used by the pipeline -------------------------------------------
    def set_coord(self, name: str, values) -> None:
        values = np.asarray(values)
        self._coords[name] = Variable((name,) if values.ndim else (), values, self)

    def __setitem__(self, name: str, item) -> None:
        dims, values = item
        var = Variable(dims, values, self)
        for dim, size in zip(var.dims, var.shape):
            known = self.sizes.get(dim)
            if known is not None and known != size:
                raise ValueError(f"{name}: dimension {dim} has size {size}, the table's is {known}")
        self._vars[name] = var

    def __getitem__(self, name: str) -> Variable:
        if name in self._vars:
            return self._vars[name]
        if name in self._coords:
            return self._coords[name]
        raise KeyError(name)

    def __contains__(self, name) -> bool:
        return name in self._vars or name in self._coords

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def data_vars(self) -> dict[str, Variable]:
        return dict(self._vars)

    @property
    def coords(self) -> dict[str, Variable]:
        return dict(self._coords)

    @property
    def sizes(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for var in (*self._coords.values(), *self._vars.values()):
            out.update(zip(var.dims, var.shape))
        return out

    def isel(self, **index) -> FitTable:
        """Integer (drops the dimension, keeps a scalar coordinate) or list/array selection."""
        out = FitTable(attrs=self.attrs)
        for name, var in self._coords.items():
            values = var.values[index[name]] if name in index and var.dims else var.values
            out.set_coord(name, values)
        for name, var in self._vars.items():
            values = var.values
            dims = list(var.dims)
            for dim, ix in index.items():
                if dim in dims:
                    axis = dims.index(dim)
                    values = np.take(values, ix, axis=axis)
                    if np.ndim(ix) == 0:
                        dims.pop(axis)
            out._vars[name] = Variable(dims, values, out)
        return out

    # -- conversions ---------------------------------------------------------------------------
    def to_xarray(self):
        """The same variables, coordinates and attrs as an ``xarray.Dataset``."""
        import xarray as xr  # lazy: heavy

        ds = xr.Dataset({name: (var.dims, var.values) for name, var in self._vars.items()},
                        coords={name: (var.dims, var.values) for name, var in self._coords.items()})
        ds.attrs.update(self.attrs)
        return ds

    def failed_rows(self, failed: dict) -> FitTable:
        """NaN rows shaped like this table's spectra, one per ``{name: reason}`` (status
        ``failed: reason``), for the fit.nc and report of a batch with failed inputs."""
        n = len(failed)
        out = FitTable(attrs=self.attrs)
        for name, var in self._coords.items():
            out.set_coord(name, np.array(list(failed)) if name == "spectrum" else var.values)
        text = {"status": [f"failed: {r}" for r in failed.values()], "reasons": list(failed.values()),
                "at_bounds": [""] * n}
        for name, var in self._vars.items():     # in this table's order, so the two concatenate
            if not var.dims or var.dims[0] != "spectrum":
                raise ValueError(f"{name}: spectrum is not its first dimension")
            values = (np.array(text[name], dtype=object) if name in text
                      else np.full((n,) + var.shape[1:], np.nan, dtype=var.dtype))
            out._vars[name] = Variable(var.dims, values, out)
        for name in text:
            if name not in out._vars:
                out[name] = ("spectrum", np.array(text[name], dtype=object))
        return out

    def __repr__(self):
        dims = ", ".join(f"{k}: {v}" for k, v in self.sizes.items())
        return f"FitTable({dims}; {len(self._vars)} variables)"


def concat_spectra(tables: list[FitTable]) -> FitTable | None:
    """Stack tables along ``spectrum`` when every other coordinate is identical and every table
    has the same variables in the same order (one basis, one data grid); ``None`` otherwise
    (the caller then uses ``xarray.concat``, which aligns differing axes)."""
    first = tables[0]
    for t in tables[1:]:
        if list(t._vars) != list(first._vars) or list(t._coords) != list(first._coords):
            return None
        for name, var in t._coords.items():
            if name != "spectrum" and not np.array_equal(var.values, first._coords[name].values):
                return None
        for name, var in t._vars.items():
            ref = first._vars[name]
            if var.dims != ref.dims or var.dtype != ref.dtype or not var.dims or var.dims[0] != "spectrum":
                return None
    out = FitTable(attrs=first.attrs)
    for name, var in first._coords.items():
        out.set_coord(name, np.concatenate([t._coords["spectrum"].values for t in tables])
                      if name == "spectrum" else var.values)
    for name, var in first._vars.items():
        out._vars[name] = Variable(var.dims, np.concatenate([t._vars[name].values for t in tables]), out)
    return out
