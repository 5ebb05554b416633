"""``fit_files``: the Python API behind ``mrsquant fit`` (read, preprocess, fit, quantify, write).

One bad input never sinks the batch: it becomes a ``failed`` row. Inputs on
the same grid (points, dwell time, field) are fitted as one batch.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..basis.edited import EditedBasis, as_basis_or_edited
from ..basis.names import present_combinations
from ..errors import BasisMismatchWarning, InputError, MRSQuantError
from ..files import atomic_path
from ..fitting.edited import edited_model
from ..fitting.result import parse_ratio
from ..fitting.store import save_fit
from ..fitting.table import FitTable, concat_spectra
from ..io import load
from ..io import text as text_io
from ..preproc import preprocess
from ..preproc.coils import combine_reference
from ..preproc.phase import find_reference_offset, reference_ppm
from ..preproc.water import WATER_RESIDUE_LIMIT, remove_water, water_residue_ratio
from ..qc.metrics import assess, result_bounds
from ..qc.preprocessing import preprocessing_entry
from ..quant import fit_water, load_quant_config, water_scaled
from ..quant.config import tissue_given
from ..quant.tissue import corrected_columns
from ..spectra import Spectra
from .distributed import fit_distributed
from .segment import fit_fractions, write_fit_segment_outputs


def _stem(path: Path) -> str:
    name = path.name
    for suf in (".nii.gz", ".nii"):
        if name.lower().endswith(suf):
            return name[: -len(suf)]
    return path.stem


def find_water_partner(path: Path) -> Spectra | None:
    """The water reference that travels with a file (.H2O next to .RAW, 4-column text)."""

    low = path.suffix.lower()
    if low == ".raw":
        for suf in (".H2O", ".h2o"):
            cand = path.with_suffix(suf)
            if cand.exists():
                return load(cand)
        return None
    if low in (".txt", ".dat", ""):
        try:
            return text_io.water_partner(path)
        except (OSError, MRSQuantError, ValueError):
            return None
    return None


EDIT_SPECTRA = ("diff", "sum", "off", "on")


def _remove_water_residue(spectra: Spectra) -> tuple[Spectra, list]:
    """A single (already averaged) spectrum with strong residual water gets the consensus
    residual-water removal (HLSVD, 4.2-5.2 ppm) before the fit; the wing of a residue tens
    of times the NAA peak otherwise decides the fit's phase and frequency (docs/fitting.md).
    Recorded in the spectrum's ProcessingApplied."""
    if spectra.data.size != spectra.n_points:     # MRSI grids: left to `mrsquant preprocess`
        return spectra, []
    ratio = float(np.ravel(water_residue_ratio(spectra))[0])
    if ratio <= WATER_RESIDUE_LIMIT:
        return spectra, []
    cleaned, info = remove_water(spectra)
    return cleaned, [{"Method": "Nuisance peak removal",
                      "Details": f"residual water {ratio:.0f}x the tallest metabolite peak: HLSVD, "
                                 f"{int(np.sum(info['n_removed']))} components in 4.2-5.2 ppm removed"}]


def _reference_if_off(spectra: Spectra) -> tuple[Spectra, list]:
    """A single spectrum whose NAA/Cr/Cho pattern sits more than 0.05 ppm off (e.g. a
    room-temperature phantom referenced to water: 0.17 ppm) is moved onto it, as the
    pipeline does for multi-transient data; without a pattern it is left as read."""
    check = find_reference_offset(spectra)
    if not check["found"] or check["ok"]:
        return spectra, []
    moved, _ = reference_ppm(spectra, offset_ppm=check["offset_ppm"])
    return moved, [{"Method": "Frequency shift",
                    "Details": f"ppm referencing to NAA/Cr/Cho: moved by {-check['offset_ppm']:+.3f} ppm"}]


def prepare(spectra: Spectra, water: Spectra | None, *, edit: str = "diff", edit_align: str | None = None):
    """Reduce a multi-transient/coil acquisition to one spectrum (preprocessing pipeline).

    Edited (MEGA-PRESS) data give the ``edit`` spectrum: ``diff`` (ON - OFF, fit it with
    a DIFF basis), ``sum``, ``off`` or ``on``; ``all`` keeps the aligned, averaged edit
    conditions (HERMES/HERCULES: the fit combines them). ``edit_align``: how edited transients
    are aligned (``None``: the pipeline's default, see :func:`mrsquant.preproc.preprocess`).
    Returns ``(spectrum, preprocessing entry for the report, water reference)``;
    the water reference comes back combined with the data's coil weights and
    eddy-current corrected when the pipeline ran.
    """
    extra = [d for d in spectra.dims if d not in ("x", "y", "z")]
    if not extra:
        spectra, steps = _remove_water_residue(spectra)
        spectra, moved = _reference_if_off(spectra)
        steps = steps + moved
        if water is not None and water.dims:     # raw reference for combined data
            water = combine_reference(water)[0]
        return spectra, ({"steps": steps} if steps else []), water
    processed, record = preprocess(spectra, water=water, edit_align=edit_align)
    water_out = record.water if record.water is not None else water
    if "edit" in processed.dims:
        if edit not in (*EDIT_SPECTRA, "all"):
            raise MRSQuantError(f"edit spectrum must be one of {EDIT_SPECTRA}, got {edit!r}")
        if edit == "all":
            pass
        elif processed.shape[processed.dims.index("edit")] != 2:
            raise MRSQuantError(f"{processed.shape[processed.dims.index('edit')]} edit conditions "
                                f"(HERMES/HERCULES?): fit them with an edited basis "
                                f"(mrsquant basis simulate --sequence hermes)")
        elif edit in ("off", "on"):   # the pipeline orders the edit axis OFF, ON
            processed = processed.isel(edit=EDIT_SPECTRA.index(edit) - 2)
        else:
            processed = record.edited[edit]
    return processed, preprocessing_entry(record), water_out


class _GridInput(InputError):
    """An MRSI grid given to ``fit``: stops the command (``mrsquant maps`` fits grids)."""


def _refuse_grid(s: Spectra, path) -> None:
    spatial = [n for d, n in zip(s.dims, s.shape) if d in ("x", "y", "z")]
    if int(np.prod(spatial or [1])) > 1:
        grid = " x ".join(str(n) for n in spatial)
        raise _GridInput(f"{path}: an MRSI grid of {grid} voxels; fit it with `mrsquant maps {path} "
                         f"--basis BASIS -o OUTDIR` (metabolite maps and per-voxel values)")


def fit_files(inputs, basis, *, outdir, water=None, quant_config=None, report=False,
              progress=True, preprocess=True, scheduler=None, client=None, edit="diff", ratios=(),
              t1=None, tissue_maps=None, segmenter="builtin", dataset=True, edit_align=None,
              **model_options) -> dict:
    """Fit files and write concentrations.tsv, qc.tsv, fit.nc (and report.pdf; ratios.tsv
    when ``ratios`` names any, e.g. ``["tCho/tNAA", "Glx/GABA"]``).

    ``t1``: T1 image(s) (``fit --t1``; paired with the inputs by
    :func:`mrsquant.app.segment.pair_t1s`), with ``tissue_maps`` / ``segmenter`` as for
    ``mrsquant segment``: each spectrum's own GM/WM/CSF fractions replace the config's
    ``[tissue]``, and fractions.tsv, the voxel masks and pictures are written beside the fit
    outputs. Every refusal of the segmentation comes before anything is fitted or written.

    Returns ``{"results": [FitResult], "failed": {name: reason}, "outdir": Path, "table": the
    fit table of fit.nc, "dataset": the same as an xarray.Dataset}``; ``dataset=False`` skips
    building the Dataset (and importing xarray), as the CLI does.
    """
    outdir = Path(outdir)
    inputs = [Path(p) for p in inputs]
    if isinstance(basis, (str, os.PathLike)):
        basis = as_basis_or_edited(basis)
    if isinstance(basis, EditedBasis):
        edit = "all"            # the edited model combines the sub-experiments itself
        if scheduler is not None or client is not None:
            raise InputError("HERMES/HERCULES (edited basis) fits run in-process only: drop --scheduler")
    _check_ratio_reference(basis)
    ratio_pairs = _check_ratios(ratios, basis)
    cfg = load_quant_config(quant_config)
    check_writable(outdir)          # before any computing
    tissue = None
    if t1:
        tissue = fit_fractions(inputs, t1, names=[_stem(p) for p in inputs], tissue_maps=tissue_maps,
                               segmenter=segmenter,
                               progress=(lambda m: print(f"mrsquant fit: {m} ...", file=sys.stderr,
                                                         flush=True)) if progress else None)
    fractions = _fractions_by_name(tissue, cfg, tissue_given(quant_config), [_stem(p) for p in inputs])
    waters = [Path(w) for w in (water or [])]
    if waters and len(waters) not in (1, len(inputs)):
        raise MRSQuantError(f"give one water reference for all inputs or one per input "
                            f"({len(inputs)} inputs, {len(waters)} water files)")
    loaded, failed, water_src = _load_inputs(inputs, waters, preprocess=preprocess, edit=edit,
                                             edit_align=edit_align)
    for name, reason in failed.items():
        print(f"mrsquant fit: warning: {name}: {reason}", file=sys.stderr)
    # one batch per data grid
    groups: dict = {}
    for item in loaded:
        s = item[2]
        key = (s.n_points, round(s.dwelltime_s, 12), round(s.spectrometer_frequency_mhz, 3))
        groups.setdefault(key, []).append(item)
    model = edited_model(basis, **model_options)
    edited = "mega" in str(getattr(basis, "sequence", "")).lower() and edit == "diff"
    results, extra = [], {}
    bar = _progress(sum(len(g) for g in groups.values()), progress)
    for items in groups.values():
        names = [it[0] for it in items]
        try:
            res = _fit_group(model, items, bar, scheduler=scheduler, client=client)
        except MRSQuantError as exc:
            for n in names:
                failed[n] = str(exc)
            continue
        for msg in res.warnings:
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            print(f"mrsquant fit: warning: {msg} ({shown}): fitted anyway; check the basis", file=sys.stderr)
        res = res.with_provenance(
            inputs=[str(it[1]) for it in items], headers=[it[2].meta for it in items],
            affines=[None if it[2].affine is None else np.asarray(it[2].affine).tolist() for it in items],
            preprocessing=[it[4] for it in items])
        res, more = _water_scale_group(res, items, cfg, water_src, fractions=fractions, edited=edited)
        results.append(res)
        extra.update(more)
    bar.close()
    if not results:
        raise MRSQuantError("nothing could be fitted: " + "; ".join(sorted(set(failed.values())))[:300])
    paths = {_stem(p): str(p) for p in inputs}
    return write_outputs(results, failed, [_stem(p) for p in inputs], outdir, report=report,
                         paths=paths, ratios=ratio_pairs, extra=extra, segmentation=tissue, dataset=dataset)


def _fractions_by_name(tissue, cfg, typed: bool, names) -> dict:
    """``{name: {gm, wm, csf}}`` of the spectra whose fractions are known: from the T1
    (``tissue``), else the quant config's own ``[tissue]`` for all (``typed``); else empty."""
    if tissue:
        return {n: {t: float(r["fractions"][t]) for t in ("gm", "wm", "csf")} for n, r in tissue.items()}
    if typed:
        return {n: {t: float(cfg["tissue"].get(t, 0.0)) for t in ("gm", "wm", "csf")} for n in names}
    return {}


def _load_inputs(inputs, waters, *, preprocess, edit, edit_align=None):
    """Read, check and preprocess each input with its water reference.

    Returns ``(loaded, failed, water_src)``: ``(name, path, spectrum, water, record)``
    items, ``{name: reason}`` for inputs that could not be read (one bad input never
    sinks the batch; an MRSI grid stops the run with a pointer to ``maps``), and
    ``{name: water reference as given}``.
    """
    loaded, failed = [], {}
    water_src: dict[str, str] = {}   # spectrum name -> its water reference, as given
    for i, path in enumerate(inputs):
        name = _stem(path)
        try:
            s = load(path)
            _refuse_grid(s, path)
            w = load(waters[0 if len(waters) == 1 else i]) if waters else find_water_partner(path)
            water_src[name] = (str(waters[0 if len(waters) == 1 else i]) if waters
                               else "partner" if w is not None else "")
            _check_signal(s, "input")
            if w is not None:
                _check_signal(w, "water reference")
                _check_water_grid(s, w)
            if preprocess:
                s, rec, w = prepare(s, w, edit=edit, edit_align=edit_align)
            else:
                rec = []
            if s.data.ndim > 1 and not set(s.dims) <= {"x", "y", "z", *(["edit"] if edit == "all" else [])}:
                raise MRSQuantError(f"dims {s.dims} left after preprocessing")
            loaded.append((name, path, s, w, rec))
        except _GridInput:
            raise
        except MRSQuantError as exc:
            failed[name] = str(exc)
        except Exception as exc:  # one bad spectrum never sinks the batch
            failed[name] = f"{type(exc).__name__}: {exc}"
    if not loaded:
        raise MRSQuantError("no input could be read: " + "; ".join(f"{k}: {v}" for k, v in failed.items()))
    return loaded, failed, water_src


def _fit_group(model, items, bar, *, scheduler=None, client=None):
    """Fit the spectra of one data grid as one batch (here or on a dask cluster)."""
    first = items[0][2]
    data = np.stack([it[2].flat()[0] if it[2].data.ndim == 1 else it[2].flat() for it in items])
    if "edit" in first.dims:     # edited sub-experiments (HERMES/HERCULES): kept per spectrum
        k = first.shape[first.dims.index("edit")]
        batch = first.replace(data=data.reshape(-1, k, first.n_points), dims=("spectrum", "edit"), affine=None)
    else:
        batch = first.replace(data=data.reshape(-1, first.n_points), dims=("spectrum",), affine=None)
    names = [it[0] for it in items]
    done = [0]

    def tick(n_done):
        bar.update(n_done - done[0])
        done[0] = n_done
    with warnings.catch_warnings():   # said once, by the caller, as a clean line
        warnings.simplefilter("ignore", BasisMismatchWarning)
        if scheduler is not None or client is not None:
            return fit_distributed(model, batch, client=client, scheduler=scheduler, names=names,
                                   progress=tick)
        return model.fit(batch, names=names, progress=tick)


def _water_scale_group(res, items, cfg, water_src, *, fractions=None, edited=False):
    """The group's result with water-scaled mM when every spectrum has a water reference, and
    ``{name: {column: (M,) values}}`` of the tissue columns (``f_*`` in qc.tsv; ``conc_csf_mm``,
    ``conc_alpha_mm`` in concentrations.tsv) of the spectra whose ``fractions`` are known."""
    fractions = fractions or {}
    extra = {it[0]: {f"f_{t}": fractions[it[0]][t] for t in ("gm", "wm", "csf")}
             for it in items if it[0] in fractions}
    ws = [it[3] for it in items]
    if not all(w is not None for w in ws):
        return res, extra
    first = items[0][2]
    wdata = np.stack([w.flat().mean(axis=0) for w in ws])
    wf = fit_water(ws[0].replace(data=wdata, dims=("spectrum",), affine=None))
    te = first.te_ms if first.te_ms is not None else cfg["sequence"].get("te_ms")
    if te is None:
        print("mrsquant fit: warning: TE unknown: give [sequence] te_ms in --quant-config", file=sys.stderr)
        return res, extra
    conc, conc_sd = water_scaled(res.amplitude, res.crlb_abs, res.metabolites, wf["area"], cfg,
                                 te_ms=te, tr_ms=first.tr_ms)
    for i, it in enumerate(items):     # each spectrum with its own fractions (fit --t1)
        if it[0] not in fractions:
            continue
        c = {**cfg, "tissue": fractions[it[0]]}
        amp, area = res.amplitude[i:i + 1], wf["area"][i:i + 1]
        ci, si = water_scaled(amp, res.crlb_abs[i:i + 1], res.metabolites, area, c, te_ms=te, tr_ms=first.tr_ms)
        conc[i], conc_sd[i] = ci[0], si[0]
        cols = corrected_columns(amp, area, res.metabolites, c, te_ms=te, tr_ms=first.tr_ms, edited=edited)
        extra[it[0]].update({k: v[0] for k, v in cols.items()})
    wres = wf["result"]
    return res.with_water(conc, conc_sd, water_fwhm_hz=wf["fwhm_hz"],
                          water={"ppm": wres.ppm, "data": wres.arrays["data"], "fit": wres.arrays["fit"]},
                          water_inputs=[water_src.get(it[0], "") for it in items]), extra


def summary_line(out: dict, *, limit: int = 3) -> str:
    """``"12 fitted, 2 flagged (a: low SNR; b: at bounds), 0 failed"`` for a :func:`fit_files` result.

    A spectrum whose fit failed (e.g. an all-zero acquisition in a batch) counts as failed,
    one with any status other than ``ok`` as flagged; up to ``limit`` of each are named.
    """
    ds = out.get("table", out.get("dataset"))
    status = {} if ds is None else {str(n): str(v) for n, v in zip(ds.spectrum.values, ds["status"].values)}
    for name, reason in out.get("failed", {}).items():
        status[name] = f"failed: {reason}"
    failed = [n for n, v in status.items() if v.startswith("failed")]
    flagged = [n for n, v in status.items() if v != "ok" and not v.startswith("failed")]

    def named(names, short):
        shown = "; ".join(f"{n}: {short(status[n])}" for n in names[:limit])
        more = f"; {len(names) - limit} more" if len(names) > limit else ""
        return f" ({shown}{more})" if names else ""
    fitted = len(status) - len(failed)
    return (f"{fitted} fitted, {len(flagged)} flagged{named(flagged, str)}, {len(failed)} failed"
            f"{named(failed, lambda v: v.split(':', 1)[-1].strip()[:60])}")


def _check_ratio_reference(basis) -> None:
    """Ratios to tCr are part of every output: a basis without Cr and PCr is refused
    (except an edited DIFF basis, which has no creatine signal to fit)."""
    if "mega" in str(getattr(basis, "sequence", "")).lower():
        return
    if not {"Cr", "PCr"} & set(basis.names):
        raise InputError("basis has neither Cr nor PCr, so no ratio to tCr can be formed "
                         f"(basis: {', '.join(basis.names)}); use a basis with Cr/PCr")


def _check_signal(s: Spectra, what: str) -> None:
    """All-zero or non-finite data cannot be fitted: said as the input's failure reason."""
    finite = np.isfinite(s.data)
    if not finite.all():
        bad = int((~finite).sum())
        raise InputError(f"{what} has {bad} non-finite (NaN/inf) points of {s.data.size}")
    if not np.any(s.data != 0):
        raise InputError(f"{what} is all zero")


def _check_water_grid(s: Spectra, w: Spectra) -> None:
    """The water reference must be sampled as the data: same dwell time and length."""
    if not np.isclose(w.dwelltime_s, s.dwelltime_s, rtol=1e-4):
        raise InputError(f"water reference dwell time {w.dwelltime_s * 1e6:.4g} us differs from the "
                         f"data's {s.dwelltime_s * 1e6:.4g} us")
    if w.n_points != s.n_points:
        raise InputError(f"water reference has {w.n_points} points, the data {s.n_points}")


#: every file ``write_outputs`` may write: a rerun removes the ones it does not write again
OUTPUT_FILES = ("concentrations.tsv", "qc.tsv", "fit.nc", "ratios.tsv", "report.pdf", "mrsinmrs.md",
                "fractions.tsv", "voxel_mask.nii.gz", "voxel.png")


def check_writable(outdir) -> None:
    """Raise InputError unless ``outdir`` (or the folder that would hold it) can be written."""
    outdir = Path(outdir)
    probe = outdir
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise InputError(f"output folder {outdir}: {probe} exists and is not a folder")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".mrsquant-probe-", dir=probe))
    except OSError as exc:
        raise InputError(f"output folder {outdir} is not writable ({exc.strerror or exc})") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _staging(outdir: Path) -> Path:
    """A fresh temporary folder on the same file system as ``outdir`` (inside it when it exists)."""
    if outdir.is_dir():
        return Path(tempfile.mkdtemp(prefix=".mrsquant-part-", dir=outdir))
    outdir.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{outdir.name}.part-", dir=outdir.parent))


def _publish(stage: Path, outdir: Path) -> None:
    """Move the staged files into ``outdir``; earlier outputs not written again are removed.

    Modes follow the umask (temporary files are created 0600). Other files in ``outdir``
    are left alone.
    """
    mask = _umask()
    files = [f for f in stage.iterdir() if f.is_file()]
    for f in files:
        os.chmod(f, 0o666 & ~mask)
    if not outdir.exists():
        os.chmod(stage, 0o777 & ~mask)
        os.rename(stage, outdir)
        return
    new = {f.name for f in files}
    for name in OUTPUT_FILES:
        old = outdir / name
        if name not in new and old.is_file():
            old.unlink()
    for f in files:
        os.replace(f, outdir / f.name)
    stage.rmdir()


def _check_ratios(ratios, basis) -> list[tuple[str, str]]:
    """Parse ``NUM/DEN`` strings; both must be basis metabolites or combinations of them."""

    known = list(basis.names) + list(present_combinations(basis.names))
    pairs = []
    for text in ratios or ():
        try:
            num, den = parse_ratio(text)
        except ValueError as exc:
            raise InputError(f"--ratios: {exc}") from None
        for m in (num, den):
            if m not in known:
                raise InputError(f"--ratios {text!r}: {m!r} is not in the basis; choices: {', '.join(known)}")
        pairs.append((num, den))
    return pairs


def _progress(total, enabled):
    if enabled:
        try:
            return tqdm(total=total, unit="spectrum", desc="fitting", file=sys.stderr, leave=False)
        except ImportError:  # pragma: no cover
            pass

    class _Null:
        def update(self, n):
            pass

        def close(self):
            pass
    return _Null()


CONC_COLUMNS = ["spectrum", "metabolite", "amplitude", "crlb_abs", "crlb_percent", "ratio_tcr",
                "conc_mm", "conc_crlb_mm", "crlb_noise_percent", "prior_influence"]
QC_COLUMNS = ["spectrum", "snr", "snr_lcmodel", "fwhm_ppm", "fwhm_hz", "fqn", "water_fwhm_hz", "status",
              "reasons"]
#: columns added when tissue fractions are known (``fit --t1``, or ``[tissue]`` in the quant config)
TISSUE_CONC_COLUMNS = ["conc_csf_mm", "conc_alpha_mm"]
TISSUE_QC_COLUMNS = ["f_gm", "f_wm", "f_csf"]


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    v = float(v)
    return "" if not np.isfinite(v) else f"{v:.6g}"


def _write_tsv(path: Path, columns, rows):
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([_fmt(r.get(c)) for c in columns])


RATIO_COLUMNS = ["spectrum", "ratio", "value", "sd"]


def write_outputs(results, failed, order, outdir: Path, *, report=False, paths=None, ratios=(), extra=None,
                  segmentation=None, dataset=True) -> dict:
    """Write every output into a fresh folder beside (or inside) ``outdir``, then move it in
    place: a failure half-way leaves the earlier outputs as they were.

    The returned ``"table"`` is the fit table of fit.nc (:class:`~mrsquant.fitting.table.FitTable`,
    or an ``xarray.Dataset`` when batches on different axes had to be aligned); ``"dataset"`` the
    same as an ``xarray.Dataset`` (``dataset=False``: not built, so xarray is never imported)."""
    outdir = Path(outdir)
    stage = _staging(outdir)
    try:
        out = _write_outputs(results, failed, order, stage, report=report, paths=paths, ratios=ratios,
                             extra=extra, segmentation=segmentation)
        _publish(stage, outdir)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
    out["outdir"] = outdir
    if dataset:
        out["dataset"] = None if out["table"] is None else _as_dataset(out["table"])
    return out


def _as_dataset(table):
    """An ``xarray.Dataset`` of a fit table (a Dataset is returned as it is)."""
    return table.to_xarray() if isinstance(table, FitTable) else table


def _fit_tables(results) -> list:
    """One :class:`FitTable` per result with the status rules applied (status, reasons, at_bounds)."""
    tables = []
    for res in results:
        ds = res.to_table()
        ds["at_bounds"] = ("spectrum", np.array(result_bounds(res), dtype=object))
        status, reasons = assess(ds)
        ds["status"] = ("spectrum", np.array(status, dtype=object))
        ds["reasons"] = ("spectrum", np.array(reasons, dtype=object))
        tables.append(ds)
    return tables


def _write_outputs(results, failed, order, outdir: Path, *, report=False, paths=None, ratios=(), extra=None,
                   segmentation=None) -> dict:
    datasets = _fit_tables(results)
    conc_rows, qc_rows = {}, {}
    for ds in datasets:
        for i, name in enumerate(ds.spectrum.values):
            rows = []
            for j, met in enumerate(ds.metabolite.values):
                rows.append({c: (name if c == "spectrum" else met if c == "metabolite"
                                 else ds[c].values[i, j]) for c in CONC_COLUMNS})
            conc_rows[str(name)] = rows
            qc_rows[str(name)] = {c: (name if c == "spectrum" else ds[c].values[i]) for c in QC_COLUMNS}
    metabolites = list(datasets[0].metabolite.values) if datasets else []
    for name, reason in failed.items():
        conc_rows[name] = [{"spectrum": name, "metabolite": m} for m in metabolites]
        qc_rows[name] = {"spectrum": name, "status": f"failed: {reason}", "reasons": reason}
    conc_cols, qc_cols = _add_tissue_columns(conc_rows, qc_rows, extra or {})
    _write_tsv(outdir / "concentrations.tsv", conc_cols, [r for n in order for r in conc_rows.get(n, [])])
    _write_tsv(outdir / "qc.tsv", qc_cols, [qc_rows[n] for n in order if n in qc_rows])
    pictures = {}
    if segmentation:
        pictures = write_fit_segment_outputs(outdir, segmentation, order)
    if ratios:
        _write_ratios(outdir, results, datasets, failed, order, ratios)
    if datasets and failed:
        datasets.append(_failed_dataset(datasets[0], failed, paths or {}))
    ds_all = _stack(datasets) if datasets else None
    if ds_all is not None:
        save_fit(ds_all, outdir / "fit.nc")
    if report and ds_all is not None:
        from ..qc.report import render_report  # lazy: heavy (matplotlib)
        render_report(_as_dataset(ds_all), outdir / "report.pdf", voxel_pictures=pictures)
    return {"results": results, "table": ds_all, "failed": failed, "outdir": outdir}


def _write_ratios(outdir, results, datasets, failed, order, ratios) -> None:
    ratio_rows = {}
    for res, ds in zip(results, datasets):
        for num, den in ratios:
            value, sd = res.ratio_sd(num, den)
            for i, name in enumerate(ds.spectrum.values):
                failed_fit = str(ds["status"].values[i]).startswith("failed")
                ratio_rows.setdefault(str(name), []).append(
                    {"spectrum": name, "ratio": f"{num}/{den}",
                     "value": None if failed_fit else value[i], "sd": None if failed_fit else sd[i]})
    for name in failed:
        ratio_rows[name] = [{"spectrum": name, "ratio": f"{a}/{b}"} for a, b in ratios]
    _write_tsv(outdir / "ratios.tsv", RATIO_COLUMNS, [r for n in order for r in ratio_rows.get(n, [])])


def _stack(datasets):
    """All batches' tables as one along ``spectrum``: a :class:`FitTable` when they share their
    axes, else ``xarray.concat`` (outer join of differing axes). The per-spectrum attribute lists
    (inputs, headers...) of every batch are merged (concatenation keeps only the first's attrs;
    an empty list becomes one ``null`` per spectrum)."""
    ds_all = datasets[0] if len(datasets) == 1 else concat_spectra(datasets)
    if ds_all is None:
        import xarray as xr  # lazy: heavy, only for batches on different axes

        ds_all = xr.concat([_as_dataset(d) for d in datasets], dim="spectrum", data_vars="minimal",
                           coords="minimal", compat="override", join="outer")
    for key in ("inputs", "water_references", "header", "preprocessing", "affines"):
        merged = []
        for ds in datasets:
            merged.extend(json.loads(ds.attrs.get(key, "[]")) or [None] * ds.sizes["spectrum"])
        ds_all.attrs[key] = json.dumps(merged, default=str)
    return ds_all


def _add_tissue_columns(conc_rows, qc_rows, extra) -> tuple[list, list]:
    """The tissue columns' values into the rows; the column lists (the tissue columns only when
    some spectrum's fractions are known, so outputs without them keep their layout)."""
    if not extra:
        return CONC_COLUMNS, QC_COLUMNS
    for name, cols in extra.items():
        if name in qc_rows:
            qc_rows[name].update({c: cols[c] for c in TISSUE_QC_COLUMNS})
        for j, r in enumerate(conc_rows.get(name, [])):
            r.update({c: cols[c][j] for c in TISSUE_CONC_COLUMNS if c in cols})
    return CONC_COLUMNS + TISSUE_CONC_COLUMNS, QC_COLUMNS[:-2] + TISSUE_QC_COLUMNS + QC_COLUMNS[-2:]


def _failed_dataset(template, failed: dict, paths: dict):
    """NaN rows (status 'failed: reason') shaped like ``template``, so reports show them."""
    out = template.failed_rows(failed)
    out.attrs.update({"inputs": json.dumps([paths.get(n, n) for n in failed]),
                      "water_references": json.dumps([None] * len(failed)),
                      "header": json.dumps([{}] * len(failed)),
                      "preprocessing": json.dumps([[]] * len(failed)),
                      "affines": json.dumps([None] * len(failed))})
    return out
