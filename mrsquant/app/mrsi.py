"""MRSI: fit a spectroscopic image as one batch and write metabolite maps.

``fit_mrsi(model, spectra, mask=...)`` flattens the voxels inside a mask to
``(N, n_points)``, fits them in one batched call (in-process, or on dask
workers with ``client=``/``scheduler=``) and keeps the mask and the affine,
so that :func:`metabolite_maps` can scatter the per-voxel values back onto
the grid and :func:`write_maps` can write one NIfTI image per metabolite and
quantity, aligned to the input affine.

The default mask keeps voxels with enough signal: the magnitude of the NAA
region (1.9-2.1 ppm) at least ``min_snr`` times the noise SD (docs/conventions.md).
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import axes
from ..basis.io import load_basis
from ..errors import InputError
from ..files import atomic_path
from ..fitting.model import FitModel, noise_sd
from ..fitting.result import FitResult
from ..io import load
from ..preproc.water import WATER_RESIDUE_LIMIT, remove_water, water_residue_ratio
from ..quant import fit_water, load_quant_config, water_scaled
from ..spectra import Spectra
from .distributed import _progress_callback, fit_distributed

SPATIAL = ("x", "y", "z")
#: quantities written as maps: name -> FitResult attribute (ratio_tcr is ``result.ratio("tCr")``)
QUANTITIES = ("ratio_tcr", "conc_mm", "crlb_percent", "amplitude")
#: per-voxel quality maps (from ``FitResult.qc``)
QC_MAPS = ("snr", "fwhm_hz", "fqn")
DEFAULT_MIN_SNR = 5.0


def as_grid(spectra: Spectra) -> Spectra:
    """``spectra`` with dims exactly ``("x", "y", "z")`` (missing spatial axes added with size 1).

    Raises :class:`InputError` when other dims (coils, transients...) are left: preprocess first.
    """
    other = [d for d in spectra.dims if d not in SPATIAL]
    if other:
        raise InputError(f"MRSI data have non-spatial dims {other}: combine coils and average "
                         f"transients first (mrsquant preprocess)")
    if not spectra.dims:
        raise InputError("input is a single voxel, not an MRSI grid: use mrsquant fit")
    data = spectra.data
    dims = list(spectra.dims)
    for d in SPATIAL:
        if d not in dims:
            data = data[..., None, :]
            dims.append(d)
    order = [dims.index(d) for d in SPATIAL] + [len(dims)]
    return spectra.replace(data=np.transpose(data, order), dims=SPATIAL)


def snr_mask(spectra: Spectra, *, min_snr: float = DEFAULT_MIN_SNR, peak_ppm=(1.9, 2.1)) -> np.ndarray:
    """Voxels whose magnitude spectrum in ``peak_ppm`` (NAA) exceeds ``min_snr`` x noise SD.

    Uses the magnitude, so it needs no phasing; the noise SD comes from the
    signal-free ends of the spectrum (:func:`mrsquant.fitting.model.noise_sd`).
    Returns a bool array of the grid shape.
    """
    flat = spectra.flat()
    spec = axes.to_spectrum(flat)
    ppm = spectra.ppm
    sel = axes.ppm_window(ppm, peak_ppm)
    peak = np.abs(spec[:, sel]).max(axis=1)
    sigma = noise_sd(spec, ppm)
    with np.errstate(divide="ignore", invalid="ignore"):
        snr = np.where(sigma > 0, peak / sigma, np.inf)
    return (snr >= min_snr).reshape(spectra.shape)


def load_mask(path, shape) -> np.ndarray:
    """Mask image (nonzero = fit) with the grid ``shape``; extra singleton axes are dropped."""
    import nibabel as nib  # lazy: heavy

    try:
        arr = np.asarray(nib.load(str(path)).dataobj)
    except Exception as exc:
        raise InputError(f"{path}: cannot read mask image ({type(exc).__name__}: {exc})") from exc
    while arr.ndim > 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.shape != tuple(shape):
        raise InputError(f"{path}: mask shape {arr.shape} does not match the MRSI grid {tuple(shape)}")
    return np.asarray(arr) != 0


@dataclass
class MRSIFit:
    """A fitted MRSI grid: the FitResult of the masked voxels plus where they sit."""

    result: FitResult | None       # None when the mask is empty
    mask: np.ndarray               # (nx, ny, nz) bool
    affine: np.ndarray             # (4, 4) voxel -> world (mm)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.mask.shape


def _resolve_mask(grid: Spectra, mask, min_snr) -> np.ndarray:
    if mask is None or (isinstance(mask, str) and mask == "snr"):
        return snr_mask(grid, min_snr=min_snr)
    if isinstance(mask, str) and mask == "all":
        return np.ones(grid.shape, bool)
    if isinstance(mask, (str, os.PathLike)):
        return load_mask(mask, grid.shape)
    arr = np.asarray(mask, bool)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.shape != grid.shape:
        raise InputError(f"mask shape {arr.shape} does not match the MRSI grid {grid.shape}")
    return arr


def fit_mrsi(model: FitModel, spectra: Spectra, *, mask=None, min_snr: float = DEFAULT_MIN_SNR,
             water: Spectra | None = None, quant_config=None, client=None, scheduler=None,
             progress=None, chunk_size: int | None = None) -> MRSIFit:
    """Fit every voxel inside ``mask`` as one batch.

    Parameters
    ----------
    model : FitModel
    spectra : Spectra
        Dims among ``x``, ``y``, ``z`` only.
    mask : None, "snr", "all", path or bool array
        Voxels to fit; None/"snr": the :func:`snr_mask` with ``min_snr``.
    water : Spectra, optional
        Unsuppressed water on the same grid: concentrations (mM) are then
        computed with :mod:`mrsquant.quant` (``quant_config`` as in ``mrsquant fit``).
    client, scheduler : optional
        Run the chunks on dask (:func:`mrsquant.app.distributed.fit_distributed`).
    progress : None, True or callable ``progress(n_done)``
    """
    grid = as_grid(spectra)
    m = _resolve_mask(grid, mask, min_snr)
    affine = np.eye(4) if grid.affine is None else np.asarray(grid.affine, float)
    idx = np.argwhere(m)
    if idx.size == 0:
        return MRSIFit(result=None, mask=m, affine=affine)
    batch = grid.replace(data=grid.data[m], dims=("voxel",), affine=None)
    names = [f"x{i}_y{j}_z{k}" for i, j, k in idx]
    if client is not None or scheduler is not None:
        res = fit_distributed(model, batch, client=client, scheduler=scheduler, names=names,
                              progress=progress, chunk_size=chunk_size)
    else:
        if progress is True:
            tick, close = _progress_callback(True, len(names))
            try:
                res = model.fit(batch, names=names, progress=tick)
            finally:
                close()
        else:
            res = model.fit(batch, names=names, progress=progress or None)
    if water is not None:
        res = _water_scale(res, as_grid(water), m, spectra, quant_config)
    return MRSIFit(result=res, mask=m, affine=affine)


def _water_scale(res: FitResult, water: Spectra, mask, spectra: Spectra, quant_config) -> FitResult:
    if water.shape != mask.shape:
        raise InputError(f"water reference grid {water.shape} differs from the MRSI grid {mask.shape}")
    cfg = load_quant_config(quant_config)
    te = spectra.te_ms if spectra.te_ms is not None else cfg["sequence"].get("te_ms")
    if te is None:
        raise InputError("TE unknown: give [sequence] te_ms in the quant config")
    wf = fit_water(water.replace(data=water.data[mask], dims=("voxel",), affine=None))
    conc, conc_sd = water_scaled(res.amplitude, res.crlb_abs, res.metabolites, wf["area"],
                                 cfg, te_ms=te, tr_ms=spectra.tr_ms)
    wres = wf["result"]   # the water panel's arrays (FitResult.to_xarray reads ppm/data/fit)
    return res.with_water(conc, conc_sd, water_fwhm_hz=wf["fwhm_hz"],
                          water={"ppm": wres.ppm, "data": wres.arrays["data"], "fit": wres.arrays["fit"]})


def _per_voxel(res: FitResult, quantity: str) -> np.ndarray | None:
    if quantity == "ratio_tcr":
        return res.ratio("tCr")
    if quantity == "conc_mm":
        return res.conc_mm
    return getattr(res, quantity)


def metabolite_maps(fit: MRSIFit, *, quantities=QUANTITIES, qc=QC_MAPS) -> dict[str, np.ndarray]:
    """Grid-shaped float32 maps, NaN outside the mask, keyed ``"{metabolite}_{quantity}"``.

    Quality maps (``snr``, ``fwhm_hz``, ``fqn``) are keyed by their own name;
    ``mask`` is 1 inside, 0 outside. Quantities that are not available (no
    water: no ``conc_mm``) are left out.
    """
    maps = {"mask": fit.mask.astype(np.float32)}
    res = fit.result
    if res is None:
        return maps
    m = fit.mask

    def scatter(values):
        out = np.full(m.shape, np.nan, np.float32)
        out[m] = values
        return out
    for q in quantities:
        arr = _per_voxel(res, q)
        if arr is None:
            continue
        for j, met in enumerate(res.metabolites):
            maps[f"{met}_{q}"] = scatter(arr[:, j])
    if qc:
        vals = res.qc
        for q in qc:
            maps[q] = scatter(vals[q])
    failed = np.array([s.startswith("failed") for s in res.status])
    if failed.any():
        for k in list(maps):
            if k != "mask":
                maps[k][tuple(np.argwhere(m)[failed].T)] = np.nan
    return maps


def write_maps(maps: dict[str, np.ndarray], affine, outdir) -> list[Path]:
    """One ``{key}.nii.gz`` per map in ``outdir`` with ``affine`` as qform and sform.

    Each file is written to a temporary name and renamed, so nothing is half-written.
    """
    import nibabel as nib  # lazy: heavy

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    affine = np.asarray(affine, float)
    paths = []
    for key, arr in maps.items():
        img = nib.Nifti1Image(np.asarray(arr, np.float32), affine)
        img.header.set_qform(affine, code=1)
        img.header.set_sform(affine, code=1)
        img.header.set_xyzt_units(xyz="mm")
        path = outdir / f"{key}.nii.gz"
        with atomic_path(path) as tmp:
            nib.save(img, str(tmp))
        paths.append(path)
    return paths


def remove_water_residue_grid(spectra: Spectra) -> Spectra:
    """Residual water removal (HLSVD, batched over voxels) when the grid's median residue is
    above ``WATER_RESIDUE_LIMIT`` x its tallest metabolite peak, as for single spectra in
    ``mrsquant fit`` (docs/fitting.md); a grid without residue is returned as it is."""

    ratio = water_residue_ratio(spectra)
    if not np.any(np.isfinite(ratio)) or float(np.nanmedian(ratio)) <= WATER_RESIDUE_LIMIT:
        return spectra
    return remove_water(spectra)[0]


def fit_maps(inputs, basis, *, outdir, mask=None, min_snr: float = DEFAULT_MIN_SNR, water=None,
             quant_config=None, scheduler=None, client=None, progress=True, chunk_size=None,
             **model_options) -> dict:
    """Read an MRSI file, fit it and write the maps: the API behind ``mrsquant maps``.

    Returns ``{"fit": MRSIFit, "paths": [...], "outdir": Path}``.
    """

    spectra = load(inputs) if isinstance(inputs, (str, os.PathLike)) else inputs
    if isinstance(basis, (str, os.PathLike)):
        basis = load_basis(basis)
    if isinstance(water, (str, os.PathLike)):
        water = load(water)
    spectra = remove_water_residue_grid(spectra)
    model = FitModel(basis, **model_options)
    fit = fit_mrsi(model, spectra, mask=mask, min_snr=min_snr, water=water, quant_config=quant_config,
                   client=client, scheduler=scheduler, progress=progress, chunk_size=chunk_size)
    if fit.result is None:
        print("mrsquant maps: warning: the mask is empty; only mask.nii.gz written", file=sys.stderr)
    paths = write_maps(metabolite_maps(fit), fit.affine, outdir)
    return {"fit": fit, "paths": paths, "outdir": Path(outdir)}
