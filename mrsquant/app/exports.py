"""Outputs of ``fit`` that other tools read: LCModel-style ``.table`` / ``.coord`` / ``.csv``
(``--lcmodel-out``), written from the fit Dataset (docs/fit_outputs.md).

One set of files per fitted spectrum in ``OUTDIR/lcmodel/NAME.table|coord|csv`` (LCModel writes
one set per fit); spectra whose fit failed get none (LCModel writes nothing then either).
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..basis.names import COMBINED
from ..errors import InputError
from ..files import atomic_path, mode_from_umask
from ..io.lcmodel import LCModelCoord, LCModelTable
from ..io.lcmodel_write import write_lcmodel_coord, write_lcmodel_csv, write_lcmodel_table
from .pipeline import CONC_COLUMNS, QC_COLUMNS, fit_files

LCMODEL_FORMATS = ("table", "coord", "csv")
LCMODEL_FOLDER = "lcmodel"


def parse_formats(text) -> tuple[str, ...]:
    """``"table,coord"`` (or a list) -> ``("table", "coord")``; ``"all"`` -> every format."""

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
    (``("table", "coord", "csv")`` or a subset) in ``OUTDIR/lcmodel/``, and, when inputs have BIDS
    names, the BIDS-derivatives tree ``OUTDIR/derivatives/mrsquant/``; each folder replaced as a whole.

    The format list is checked before anything is fitted. Adds ``"lcmodel": [paths]`` to the result.
    """

    formats = parse_formats(lcmodel_out)
    out = fit_files(inputs, basis, outdir=outdir, **options)
    table = out.get("table")        # the fit table (numpy only), also when no Dataset was built
    out["lcmodel"] = []
    if formats and table is not None:
        folder = publish_folder(outdir, LCMODEL_FOLDER,
                                lambda stage: write_lcmodel_outputs(table, stage, formats, folder_name=""))
        out["lcmodel"] = sorted(folder.iterdir())
    out["bids"] = []
    if table is not None and any(
            bids_entities(p) for p in json.loads(table.attrs.get("inputs", "[]") or "[]") if p):
        folder = publish_folder(outdir, BIDS_FOLDER, lambda stage: write_bids_derivatives(table, stage))
        out["bids"] = sorted(p for p in folder.rglob("*") if p.is_file())
    return out


# -- BIDS derivatives ---------------------------------------------------------------------

BIDS_FOLDER = "derivatives"
BIDS_PIPELINE = "mrsquant"
#: BIDS MRS entities, in the order they appear in a file name
BIDS_ENTITIES = ("sub", "ses", "task", "acq", "nuc", "voi", "rec", "run", "echo", "inv")
BIDS_SUFFIXES = ("svs", "mrsi", "unloc", "mrsref")

_COLUMN_DESCRIPTIONS = {
    "spectrum": "input name (file name without extension)",
    "metabolite": "canonical metabolite name (combined: tNAA, tCr, tCho, Glx)",
    "amplitude": "fitted amplitude in basis units",
    "crlb_abs": "Cramer-Rao lower bound (SD) of the amplitude, model misfit included",
    "crlb_percent": "100 * crlb_abs / amplitude",
    "ratio_tcr": "amplitude / amplitude of tCr",
    "conc_mm": {"Description": "water-scaled concentration", "Units": "mM"},
    "conc_crlb_mm": {"Description": "CRLB of conc_mm", "Units": "mM"},
    "crlb_noise_percent": "CRLB (%) from the noise alone",
    "prior_influence": "share (0-1) of the estimate's precision from the optional concentration prior",
    "snr": "NAA peak height / noise SD",
    "snr_lcmodel": "LCModel S/N: peak height / (2 x RMS noise)",
    "fwhm_ppm": {"Description": "NAA linewidth (FWHM)", "Units": "ppm"},
    "fwhm_hz": {"Description": "NAA linewidth (FWHM)", "Units": "Hz"},
    "fqn": "fit-quality number: residual variance / noise variance",
    "water_fwhm_hz": {"Description": "water reference linewidth (FWHM)", "Units": "Hz"},
    "status": "ok, or what is wrong (docs/fit_outputs.md)",
    "reasons": "which QC criterion fired, with the measured value",
}


def bids_entities(path) -> tuple[dict, str] | None:
    """``({entity: label}, suffix)`` of a BIDS-named input (``sub-01_ses-pre_svs.nii.gz``), or None.

    Leading ``key-label`` parts with BIDS MRS entities are kept; the suffix is the last part when it
    is a BIDS MRS suffix, else ``svs``. Other parts (e.g. Osprey's ``..._PRESS_raw-act_noID.SDAT``)
    become the ``acq`` label (letters and digits only) so that two scans of one session stay apart.
    """

    name = Path(path).name
    for suf in (".nii.gz", ".nii"):
        if name.lower().endswith(suf):
            name = name[: -len(suf)]
            break
    else:
        name = Path(name).stem
    parts = name.split("_")
    ents: dict[str, str] = {}
    rest = []
    for part in parts:
        key, _, label = part.partition("-")
        if key in BIDS_ENTITIES and label and re.fullmatch(r"[A-Za-z0-9]+", label) and key not in ents \
                and not rest:
            ents[key] = label
        else:
            rest.append(part)
    if "sub" not in ents:
        return None
    suffix = "svs"
    if rest and rest[-1] in BIDS_SUFFIXES:
        suffix = rest.pop()
    extra = re.sub(r"[^A-Za-z0-9]", "", "".join(rest))
    if extra and "acq" not in ents:
        ents["acq"] = extra
    return ents, suffix


def bids_stem(ents: dict, suffix: str, desc: str) -> str:
    keys = [f"{k}-{ents[k]}" for k in BIDS_ENTITIES if k in ents]
    return "_".join(keys + [f"desc-{desc}", suffix])


def _bids_tsv(path: Path, columns, rows) -> None:
    def cell(v):
        if v is None:
            return "n/a"
        if isinstance(v, str):
            return v if v not in ("", "nan") else "n/a"
        v = float(v)
        return f"{v:.6g}" if np.isfinite(v) else "n/a"
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([cell(r.get(c)) for c in columns])


def _json(path: Path, obj) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2) + "\n")


def _sidecar(columns, source: str) -> dict:
    out = {"Sources": [source]} if source else {}
    for c in columns:
        d = _COLUMN_DESCRIPTIONS.get(c, c)
        out[c] = d if isinstance(d, dict) else {"Description": d}
    return out


def write_bids_derivatives(ds, outdir) -> list[Path]:
    """``OUTDIR/derivatives/mrsquant/`` (dataset_description.json, then per BIDS-named input
    ``sub-X/[ses-Y/]mrs/<entities>_desc-concentrations_<suffix>.tsv`` and ``..._desc-qc_<suffix>.tsv``,
    each with a JSON sidecar describing its columns). Nothing when no input has a BIDS name."""

    if ds is None:
        return []
    inputs = json.loads(ds.attrs.get("inputs", "[]") or "[]")
    names = [str(n) for n in ds.spectrum.values]
    targets = []
    for i, name in enumerate(names):
        found = bids_entities(inputs[i] if i < len(inputs) and inputs[i] else name)
        if found is not None:
            targets.append((i, *found))
    if not targets:
        return []
    root = Path(outdir) / BIDS_PIPELINE
    version = str(ds.attrs.get("software_version", "mrsquant")).replace("mrsquant", "").strip()
    _json(root / "dataset_description.json", {
        "Name": "mrsquant MRS quantification", "BIDSVersion": "1.9.0", "DatasetType": "derivative",
        "GeneratedBy": [{"Name": "mrsquant", "Version": version or "unknown",
                         "Description": "linear-combination fit, ratios to tCr, water-scaled concentrations"}]})
    written = [root / "dataset_description.json"]
    seen: set[str] = set()
    for i, ents, suffix in targets:
        folder = root / f"sub-{ents['sub']}"
        if "ses" in ents:
            folder = folder / f"ses-{ents['ses']}"
        folder = folder / "mrs"
        conc_stem = bids_stem(ents, suffix, "concentrations")
        if conc_stem in seen:   # two inputs with one name: the first is kept
            continue
        seen.add(conc_stem)
        one = ds.isel(spectrum=i)
        conc_rows = [{c: (names[i] if c == "spectrum" else met if c == "metabolite"
                          else one[c].values[j]) for c in CONC_COLUMNS}
                     for j, met in enumerate(str(m) for m in ds.metabolite.values)]
        qc_row = {c: (names[i] if c == "spectrum" else one[c].values) for c in QC_COLUMNS if c in one}
        qc_row = {k: (v.item() if hasattr(v, "item") else v) for k, v in qc_row.items()}
        source = f"bids:raw:{Path(inputs[i]).name}" if i < len(inputs) and inputs[i] else ""
        for stem, columns, rows in ((conc_stem, CONC_COLUMNS, conc_rows),
                                    (bids_stem(ents, suffix, "qc"), QC_COLUMNS, [qc_row])):
            _bids_tsv(folder / f"{stem}.tsv", columns, rows)
            _json(folder / f"{stem}.json", _sidecar(columns, source))
            written += [folder / f"{stem}.tsv", folder / f"{stem}.json"]
    return written
