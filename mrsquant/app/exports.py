"""Outputs of ``fit`` that other tools read: LCModel-style ``.table`` / ``.coord`` / ``.csv``
(``--lcmodel-out``), written from the fit Dataset (docs/fit_outputs.md).

One set of files per fitted spectrum in ``OUTDIR/lcmodel/NAME.table|coord|csv`` (LCModel writes
one set per fit); spectra whose fit failed get none (LCModel writes nothing then either).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

LCMODEL_FORMATS = ("table", "coord", "csv")
LCMODEL_FOLDER = "lcmodel"


def parse_formats(text) -> tuple[str, ...]:
    """``"table,coord"`` (or a list) -> ``("table", "coord")``; ``"all"`` -> every format."""
    from ..errors import InputError

    if text is None or text == ():
        return ()
    items = text.split(",") if isinstance(text, str) else [x for t in text for x in str(t).split(",")]
    items = [x.strip().lower().lstrip(".") for x in items if x.strip()]
    if items == ["all"]:
        return LCMODEL_FORMATS
    bad = [x for x in items if x not in LCMODEL_FORMATS]
    if bad:
        raise InputError(f"--lcmodel-out: unknown format {', '.join(bad)}; choices: {', '.join(LCMODEL_FORMATS)}, all")
    return tuple(dict.fromkeys(items))


def lcmodel_name(metabolite: str) -> str:
    """LCModel's name of a combined metabolite (``tCr`` -> ``Cr+PCr``); others unchanged."""
    from ..basis.names import COMBINED

    parts = COMBINED.get(metabolite)
    return "+".join(parts) if parts else metabolite


def _knots(attrs) -> int:
    opts = json.loads(attrs.get("model_options", "{}") or "{}")
    if opts.get("baseline", "spline") != "spline":
        return 0
    span = float(attrs.get("ppm_max", 4.2)) - float(attrs.get("ppm_min", 0.2))
    return int(round(span / float(opts.get("baseline_spacing_ppm", 0.4)))) + 1


def lcmodel_records(ds, i: int):
    """``(LCModelTable, LCModelCoord)`` for spectrum ``i`` of a fit Dataset.

    Conc. is ``conc_mm`` when the spectrum was water scaled, else the amplitude (basis units);
    %SD the CRLB with misfit; the ratio is to tCr (``/Cr+PCr``). The curves are real parts on
    the fit window's ppm axis; each component curve has the baseline added, as in LCModel.
    """
    from ..io.lcmodel import LCModelCoord, LCModelTable

    one = ds.isel(spectrum=i)
    conc = np.asarray(one["conc_mm"].values, dtype=float)
    if not np.any(np.isfinite(conc)):
        conc = np.asarray(one["amplitude"].values, dtype=float)
    mets = [str(m) for m in ds.metabolite.values]
    inputs = json.loads(ds.attrs.get("inputs", "[]") or "[]")
    f0 = float(ds.attrs.get("spectrometer_frequency_mhz", np.nan))
    table_inputs = {"DELTAT": float(ds.attrs.get("dwelltime_s", np.nan)), "HZPPPM": f0,
                    "NUNFIL": int(ds.attrs.get("n_points", ds.sizes.get("ppm", 0))),
                    "PPMST": float(ds.attrs.get("ppm_max", np.nan)),
                    "PPMEND": float(ds.attrs.get("ppm_min", np.nan))}
    te = float(ds.attrs.get("te_ms", np.nan))
    if np.isfinite(te):
        table_inputs["ECHOT"] = te
    if i < len(inputs) and inputs[i]:
        table_inputs["FILRAW"] = str(inputs[i])
    table = LCModelTable(
        metabolites=[lcmodel_name(m) for m in mets], conc=conc,
        sd_percent=np.asarray(one["crlb_percent"].values, dtype=float),
        ratio=np.nan_to_num(np.asarray(one["ratio_tcr"].values, dtype=float)), ratio_to="Cr+PCr",
        fwhm_ppm=float(one["fwhm_ppm"]), snr=float(one["snr_lcmodel"]),
        data_shift_ppm=float(one["shift_hz"]) / f0 if np.isfinite(f0) else 0.0,
        phase_deg=(float(one["phase0_deg"]), float(one["phase1_deg_per_ppm"])), inputs=table_inputs)
    baseline = np.real(one["baseline"].values)
    amps = dict(zip(mets, conc))
    components = {str(m): np.real(one["components"].sel(basis_metabolite=m).values) + baseline
                  for m in ds.basis_metabolite.values if np.isfinite(amps.get(str(m), np.nan))
                  and amps.get(str(m), 0.0) > 0}
    coord = LCModelCoord(table=table, ppm=np.asarray(ds.ppm.values, dtype=float),
                         data=np.real(one["data"].values), fit=np.real(one["fit"].values),
                         baseline=baseline, components=components)
    return table, coord


def write_lcmodel_outputs(ds, outdir, formats=LCMODEL_FORMATS, *, folder_name: str = LCMODEL_FOLDER) -> list[Path]:
    """Write ``OUTDIR/lcmodel/NAME.{table,coord,csv}`` for every fitted spectrum of ``ds``
    (``folder_name=""``: straight into ``outdir``)."""
    from ..io.lcmodel_write import write_lcmodel_coord, write_lcmodel_csv, write_lcmodel_table

    if not formats or ds is None:
        return []
    folder = Path(outdir) / folder_name if folder_name else Path(outdir)
    version = str(ds.attrs.get("software_version", "mrsquant"))
    inputs = json.loads(ds.attrs.get("inputs", "[]") or "[]")
    written = []
    for i, name in enumerate(str(n) for n in ds.spectrum.values):
        status = str(ds["status"].values[i]) if "status" in ds else ""
        if status.startswith("failed"):
            continue
        table, coord = lcmodel_records(ds, i)
        reasons = str(ds["reasons"].values[i]) if "reasons" in ds else ""
        kw = {"spectrum_id": name, "version": version, "knots": _knots(ds.attrs),
              "data_of": str(inputs[i]) if i < len(inputs) and inputs[i] else name,
              "diagnostics": [r.strip() for r in reasons.split(";") if r.strip() and reasons != "nan"]}
        if "table" in formats:
            written.append(write_lcmodel_table(table, folder / f"{name}.table", **kw))
        if "coord" in formats:
            written.append(write_lcmodel_coord(coord, folder / f"{name}.coord", **kw))
        if "csv" in formats:
            written.append(write_lcmodel_csv([table], folder / f"{name}.csv"))
    return written


def publish_folder(outdir, name: str, write) -> Path:
    """Write a sub-folder of ``outdir`` through a staged copy: ``write(folder)`` fills a fresh
    temporary folder, which then replaces ``outdir/name`` as a whole (a failure leaves the old one)."""
    import os
    import shutil
    import tempfile

    from ..files import mode_from_umask

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{name}.part-", dir=outdir))
    try:
        write(stage)
        mask = os.umask(0)
        os.umask(mask)
        for p in stage.rglob("*"):
            if p.is_file():
                mode_from_umask(p)
            else:
                os.chmod(p, 0o777 & ~mask)
        os.chmod(stage, 0o777 & ~mask)
        target = outdir / name
        old = None
        if target.exists():
            old = outdir / f".{name}.old-{os.getpid()}"
            os.rename(target, old)
        os.rename(stage, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return target
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def fit_files_with_exports(inputs, basis, *, outdir, lcmodel_out=(), **options) -> dict:
    """:func:`mrsquant.app.pipeline.fit_files`, then the LCModel-style files of ``lcmodel_out``
    (``("table", "coord", "csv")`` or a subset) in ``OUTDIR/lcmodel/``, replaced as a whole.

    The format list is checked before anything is fitted. Adds ``"lcmodel": [paths]`` to the result.
    """
    from .pipeline import fit_files

    formats = parse_formats(lcmodel_out)
    out = fit_files(inputs, basis, outdir=outdir, **options)
    out["lcmodel"] = []
    if formats and out.get("dataset") is not None:
        folder = publish_folder(outdir, LCMODEL_FOLDER,
                                lambda stage: write_lcmodel_outputs(out["dataset"], stage, formats,
                                                                    folder_name=""))
        out["lcmodel"] = sorted(folder.iterdir())
    return out
