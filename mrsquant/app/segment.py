"""Tissue fractions of a spectroscopy voxel from a T1: files in, files out.

``segment_files(t1, spectra, outdir, tissue_maps=..., segmenter=...)`` reads the T1 (NIfTI or
MGH, nibabel) and the spectrum (any format ``load`` reads; its affine places the voxel), finds
the tissue maps or segments the T1, and writes into ``outdir``:

- ``fractions.tsv``: one row: ``spectrum, t1, source, f_gm, f_wm, f_csf, brain, in_image,
  volume_ml, centre_x_mm, centre_y_mm, centre_z_mm, size_1_mm, size_2_mm, size_3_mm``
  (+ ``other_spectrum, centre_distance_mm, dice`` with ``other=``);
- ``tissue.toml``: the ``[tissue]`` section of the quant config (``mrsquant fit --quant-config``);
- ``voxel_mask.nii.gz``: the voxel's partial-volume mask on the T1's grid (float32, 0-1);
- ``voxel.png``: three orthogonal T1 slices through the voxel centre with its outline.

Tissue maps (``tissue_maps=``: files or one folder), recognised by name (:data:`TPM_FORMATS`):

- FSL FAST: ``*_pve_0`` CSF, ``*_pve_1`` GM, ``*_pve_2`` WM (``.nii`` / ``.nii.gz``);
- SPM: ``c1*`` GM, ``c2*`` WM, ``c3*`` CSF;
- FreeSurfer: ``aparc+aseg``, ``aseg`` or ``wmparc`` (``.mgz`` / ``.nii[.gz]``), labels mapped by
  ``quant.segment.FREESURFER_LABELS``.

Without maps the T1 is segmented (``segmenter="builtin"`` or ``"atropos"``); it must be
skull-stripped. Every check runs before anything is written.
"""
from __future__ import annotations

import fnmatch
import sys
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..files import atomic_path
from ..io import load
from ..io.bids import parse_entities
from ..qc.voxel_plot import save_voxel_png
from ..quant import segment as seg
from ..quant import voxel

#: tissue map naming: format -> ((tissue, glob on the lower-case file name), ...)
TPM_FORMATS = (
    ("fsl-fast", (("csf", "*_pve_0.nii*"), ("gm", "*_pve_1.nii*"), ("wm", "*_pve_2.nii*"))),
    ("spm", (("gm", "c1*.nii*"), ("wm", "c2*.nii*"), ("csf", "c3*.nii*"))),
)
#: FreeSurfer label volumes, in order of preference
FREESURFER_FILES = ("aparc+aseg", "aseg", "wmparc")
_FS_SUFFIXES = (".mgz", ".nii.gz", ".nii", ".mgh")

OUTPUT_FILES = ("fractions.tsv", "tissue.toml", "voxel_mask.nii.gz", "voxel.png")


def _load_image(path: Path):
    import nibabel as nib  # lazy: heavy

    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        img = nib.load(str(path))
        shape = img.shape
    except Exception as exc:     # nibabel raises ImageFileError, ValueError, EOFError...
        raise InputError(f"{path}: cannot read as a NIfTI/MGH image: {exc}") from exc
    if len(shape) == 4 and shape[3] == 1:
        img = img.slicer[..., 0]
    if len(img.shape) != 3:
        raise InputError(f"{path}: expected a 3-D image, found shape {img.shape}")
    return img


def _data(img, path) -> np.ndarray:
    try:
        arr = np.asarray(img.dataobj, dtype=np.float32)
    except Exception as exc:
        raise InputError(f"{path}: cannot read the image data: {exc}") from exc
    return np.nan_to_num(arr)


def _fs_stem(name: str) -> str | None:
    low = name.lower()
    for sfx in _FS_SUFFIXES:
        if low.endswith(sfx):
            return low[: -len(sfx)]
    return None


def find_tissue_maps(paths) -> tuple[str, dict]:
    """``(format, {tissue: path})`` from tissue map files or a folder holding them.

    FreeSurfer gives ``{"labels": path}``. Refuses (one line) what it does not recognise.
    """
    paths = [Path(p) for p in paths]
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(q for q in p.iterdir() if q.is_file())
        elif p.is_file():
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    for fmt, patterns in TPM_FORMATS:
        found = {}
        for tissue, pattern in patterns:
            hits = [f for f in files if fnmatch.fnmatch(f.name.lower(), pattern)]
            if len(hits) > 1:
                raise InputError(f"{len(hits)} {fmt} {tissue.upper()} maps ({pattern}): "
                                 f"{', '.join(h.name for h in hits)}; pass the three files")
            if hits:
                found[tissue] = hits[0]
        if len(found) == 3:
            return fmt, found
        if found:
            missing = [t for t, _ in patterns if t not in found]
            raise InputError(f"{fmt} tissue maps incomplete: no {', '.join(m.upper() for m in missing)} "
                             f"map ({', '.join(p for t, p in patterns if t in missing)})")
    for stem in FREESURFER_FILES:
        hits = [f for f in files if _fs_stem(f.name) == stem]
        if hits:
            return "freesurfer", {"labels": hits[0]}
    names = ", ".join(f.name for f in files[:6]) or "nothing"
    raise InputError(f"no tissue maps recognised in {names} (FSL FAST *_pve_0/1/2, SPM c1/c2/c3, "
                     "FreeSurfer aparc+aseg/aseg/wmparc)")


def _read_maps(fmt: str, found: dict) -> tuple[dict, object]:
    """Tissue maps as arrays on one grid, and that grid's image (for its affine)."""
    if fmt == "freesurfer":
        img = _load_image(found["labels"])
        return seg.labels_to_tissue(np.asarray(img.dataobj)), img
    imgs = {t: _load_image(p) for t, p in found.items()}
    ref = imgs["gm"]
    for t, img in imgs.items():
        if img.shape != ref.shape or not np.allclose(img.affine, ref.affine, atol=1e-3):
            raise InputError(f"{found[t].name}: not on the grid of {found['gm'].name} "
                             f"(shape {img.shape} vs {ref.shape}, or another affine)")
    maps = {t: _data(img, found[t]) for t, img in imgs.items()}
    hi = max(float(m.max()) for m in maps.values())
    if hi > 1.5:     # SPM uint8 maps saved without scaling: 0-255
        maps = {t: m / 255.0 for t, m in maps.items()}
    return maps, ref


def _grid_shape(spectra) -> tuple[int, int, int]:
    return tuple(spectra.shape[spectra.dims.index(d)] if d in spectra.dims else 1
                 for d in ("x", "y", "z"))


def _load_spectrum(path: Path):
    s = load(path)
    if isinstance(s, (list, tuple)):
        s = s[0]
    return s


def voxel_fractions(t1_path, spectra_path, *, tissue_maps=None, segmenter: str = "builtin",
                    progress=None) -> dict:
    """Compute everything ``segment_files`` writes, in memory (no file written)."""
    t1_path, spectra_path = Path(t1_path), Path(spectra_path)
    spectra = _load_spectrum(spectra_path)
    grid = _grid_shape(spectra)
    geom = voxel.voxel_geometry(spectra.affine, grid)      # refuses a spectrum without geometry
    t1 = _load_image(t1_path)
    mask_t1 = voxel.voxel_mask(spectra.affine, t1.shape, t1.affine, grid_shape=grid)
    if not mask_t1.any():
        c = ", ".join(f"{v:.1f}" for v in geom.centre_mm)
        raise InputError(f"the spectroscopy voxel (centre {c} mm) lies outside the T1's field of view: "
                         "T1 and spectrum from different sessions or scanner frames?")
    if tissue_maps:
        source, found = find_tissue_maps(tissue_maps)
        maps, grid_img = _read_maps(source, found)
        mask = voxel.voxel_mask(spectra.affine, grid_img.shape, grid_img.affine, grid_shape=grid)
        if not mask.any():
            raise InputError(f"the spectroscopy voxel lies outside the {source} tissue maps' field of view")
    else:
        source, grid_img, mask = segmenter, t1, mask_t1
        zooms = np.linalg.norm(t1.affine[:3, :3], axis=0)
        if progress:
            progress(f"segmenting {t1_path.name} ({segmenter})")
        maps = seg.segment_t1(_data(t1, t1_path), zooms, method=segmenter)
    f = voxel.tissue_fractions(mask, **maps, image_affine=grid_img.affine, mrs_affine=spectra.affine,
                               grid_shape=grid)
    return {"spectra": spectra, "grid": grid, "geometry": geom, "t1": t1, "mask_t1": mask_t1,
            "fractions": f, "source": source, "maps": maps if grid_img is t1 else None}


def _row(spectra_path, t1_path, res) -> dict:
    f, g = res["fractions"], res["geometry"]
    row = {"spectrum": Path(spectra_path).name, "t1": Path(t1_path).name, "source": res["source"],
           "f_gm": f["gm"], "f_wm": f["wm"], "f_csf": f["csf"], "brain": f["brain"],
           "in_image": f["in_image"], "volume_ml": g.volume_ml}
    for axis, v in zip("xyz", g.centre_mm):
        row[f"centre_{axis}_mm"] = float(v)
    for i, v in enumerate(g.size_mm, 1):
        row[f"size_{i}_mm"] = float(v)
    return row


def _fmt(v) -> str:
    if isinstance(v, float):
        return "" if not np.isfinite(v) else f"{v:.4f}"
    return str(v)


def tissue_toml(f: dict, *, source: str, spectrum: str) -> str:
    """The ``[tissue]`` section of the quant config for these fractions (sums to 1 at 4 decimals)."""
    gm, wm = round(f["gm"], 4), round(f["wm"], 4)
    csf = round(1.0 - gm - wm, 4)
    return (f"# tissue fractions of {spectrum} ({source}); mrsquant fit --quant-config this file\n"
            f"[tissue]\ngm = {gm}\nwm = {wm}\ncsf = {csf}\n")


def segment_files(t1_path, spectra_path, outdir, *, tissue_maps=None, segmenter: str = "builtin",
                  other=None, progress=None) -> dict:
    """Fractions, quant TOML, mask and picture of one spectrum's voxel on its T1 (module docstring).

    ``other``: a second visit's spectrum (its voxel in the same scanner frame as this T1, e.g.
    same session, or after registering its T1): adds the placement columns.
    """
    res = voxel_fractions(t1_path, spectra_path, tissue_maps=tissue_maps, segmenter=segmenter,
                          progress=progress)
    row = _row(spectra_path, t1_path, res)
    if other is not None:
        o = _load_spectrum(Path(other))
        t1 = res["t1"]
        p = voxel.placement(res["spectra"].affine, o.affine, image_shape=t1.shape, image_affine=t1.affine,
                            grid_shape=res["grid"])
        row.update({"other_spectrum": Path(other).name, "centre_distance_mm": p["centre_mm"],
                    "dice": p["dice"]})
    f = res["fractions"]
    if np.isfinite(f["in_image"]) and f["in_image"] < 0.99:
        print(f"mrsquant segment: warning: {100 * (1 - f['in_image']):.0f} % of the voxel is outside "
              "the image", file=sys.stderr)
    if f["brain"] < 0.9:
        print(f"mrsquant segment: warning: {100 * (1 - f['brain']):.0f} % of the voxel is outside the "
              "brain (fractions are of the brain part)", file=sys.stderr)
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise InputError(f"{outdir} exists and is not a folder")
    outdir.mkdir(parents=True, exist_ok=True)
    _write_fractions(outdir / "fractions.tsv", [row])
    with atomic_path(outdir / "tissue.toml") as tmp:
        tmp.write_text(tissue_toml(f, source=res["source"], spectrum=row["spectrum"]))
    _write_mask_and_png(res, row, outdir / "voxel_mask.nii.gz", outdir / "voxel.png")
    return row


def _write_fractions(path: Path, rows) -> None:
    cols = list(dict.fromkeys(c for r in rows for c in r))
    with atomic_path(path) as tmp:
        tmp.write_text("\t".join(cols) + "\n"
                       + "".join("\t".join(_fmt(r.get(c, "")) for c in cols) + "\n" for r in rows))


def _write_mask_and_png(res, row, mask_path: Path, png_path: Path) -> None:
    """The voxel's partial-volume mask on the T1 grid (NIfTI) and its three-slice picture."""
    import nibabel as nib  # lazy: heavy

    t1 = res["t1"]
    mask_img = nib.Nifti1Image(res["mask_t1"].astype(np.float32), t1.affine)
    qcode = int(t1.header["qform_code"]) if "qform_code" in t1.header else 1
    scode = int(t1.header["sform_code"]) if "sform_code" in t1.header else 1
    mask_img.set_qform(t1.affine, code=max(qcode, 1))
    mask_img.set_sform(t1.affine, code=max(scode, 1))
    with atomic_path(mask_path) as tmp:
        nib.save(mask_img, str(tmp))
    with atomic_path(png_path) as tmp:
        save_voxel_png(tmp, t1, res["mask_t1"], res["geometry"].centre_mm,
                       title=f"{row['spectrum']} on {row['t1']}\n(tissue maps: {res['source']})",
                       fractions=res["fractions"])


# --------------------------------------------------------------------------- fit --t1
def _bids_key(path: Path) -> dict:
    """``sub``/``ses`` entities of a file, from its name or else its folders (nearest first)."""

    out: dict = {}
    for part in (path.name, *reversed(path.parent.parts)):
        ent = parse_entities(part)
        for k in ("sub", "ses"):
            if k in ent and k not in out:
                out[k] = ent[k]
        if "sub" in out:
            break
    return out


def pair_t1s(inputs, t1s) -> list[Path]:
    """The T1 of each input: the rule of ``mrsquant fit --t1`` (docs/quantification.md).

    - every input and T1 carries BIDS entities (in the file name or its folders): each input
      takes the one T1 of its participant (``sub-``) and, when the T1 names one, its session
      (``ses-``), whatever the order; so one T1 serves several spectra of one participant and
      session;
    - otherwise as many T1s as inputs: paired in the order given (refused when both of a pair
      carry ``sub-`` / ``ses-`` entities that disagree).

    Raises :class:`InputError` (one line) when an input has no T1 or more than one.
    """
    inputs, t1s = [Path(p) for p in inputs], [Path(p) for p in t1s]
    for t in t1s:
        if not t.is_file():
            raise InputError(f"--t1 {t}: no such file")
    keys_i, keys_t = [_bids_key(p) for p in inputs], [_bids_key(t) for t in t1s]
    if all("sub" in k for k in keys_i + keys_t):
        out = []
        for p, ki in zip(inputs, keys_i):
            hits = [t for t, kt in zip(t1s, keys_t) if kt["sub"] == ki["sub"]
                    and ("ses" not in kt or kt.get("ses") == ki.get("ses"))]
            if len(hits) != 1:
                what = "no T1" if not hits else f"{len(hits)} T1s ({', '.join(h.name for h in hits)})"
                raise InputError(f"--t1: {what} for {p.name} (sub-{ki['sub']}"
                                 + (f", ses-{ki['ses']}" if "ses" in ki else "") + "): give exactly one per "
                                 "participant and session")
            out.append(hits[0])
        return out
    if len(t1s) != len(inputs):
        raise InputError(f"--t1: {len(t1s)} T1 images for {len(inputs)} inputs; give one T1 per input "
                         "(same order), or BIDS-named files (sub-XX[_ses-YY]) to pair by participant/session")
    for p, t, ki, kt in zip(inputs, t1s, keys_i, keys_t):
        if any(k in ki and k in kt and ki[k] != kt[k] for k in ("sub", "ses")):
            raise InputError(f"--t1 {t.name} is {kt} but its input {p.name} is {ki}: "
                             "give the T1s in the order of the inputs")
    return t1s


def _maps_for(t1s, tissue_maps) -> list:
    """``--tissue-maps`` of each distinct T1: one T1 takes them as ``segment`` does (three files
    or a folder or a FreeSurfer file); several T1s take one folder or label file each, in order."""
    distinct = list(dict.fromkeys(t1s))
    if not tissue_maps:
        return [None] * len(distinct)
    if len(distinct) == 1:
        return [list(tissue_maps)]
    if len(tissue_maps) != len(distinct):
        raise InputError(f"--tissue-maps: {len(tissue_maps)} paths for {len(distinct)} T1 images; give one "
                         "folder (FAST/SPM maps) or FreeSurfer label file per T1, in the order of --t1")
    return [[m] for m in tissue_maps]


def fit_fractions(inputs, t1s, *, names, tissue_maps=None, segmenter: str = "builtin",
                  progress=None) -> dict:
    """Segmentation + fractions of every input's voxel before a fit: ``{name: result}``, each the
    :func:`voxel_fractions` dict plus its fractions.tsv ``row``. Every refusal (pairing, no
    geometry, voxel outside the T1) comes before the fit, so nothing is written."""
    inputs = [Path(p) for p in inputs]
    paired = pair_t1s(inputs, t1s)
    maps = dict(zip(dict.fromkeys(paired), _maps_for(paired, tissue_maps)))
    segs: dict = {}                    # a T1 serving several voxels is segmented once
    out = {}
    for name, path, t1 in zip(names, inputs, paired):
        try:
            if maps[t1] is None and t1 in segs:
                res = _fractions_with_maps(path, t1, segs[t1])
            else:
                res = voxel_fractions(t1, path, tissue_maps=maps[t1], segmenter=segmenter, progress=progress)
                if maps[t1] is None:
                    segs[t1] = res
        except InputError as exc:
            raise InputError(f"{path.name}: {exc}") from None
        res["row"] = {**_row(path, t1, res), "spectrum": name}    # the fit's spectrum name
        out[name] = res
    return out


def _fractions_with_maps(spectra_path, t1_path, done: dict) -> dict:
    """Another voxel on a T1 already segmented (``done``: that T1's :func:`voxel_fractions`)."""
    spectra = _load_spectrum(Path(spectra_path))
    grid = _grid_shape(spectra)
    geom = voxel.voxel_geometry(spectra.affine, grid)
    t1 = done["t1"]
    mask = voxel.voxel_mask(spectra.affine, t1.shape, t1.affine, grid_shape=grid)
    if not mask.any():
        raise InputError("the spectroscopy voxel lies outside the T1's field of view")
    f = voxel.tissue_fractions(mask, **done["maps"], image_affine=t1.affine, mrs_affine=spectra.affine,
                               grid_shape=grid)
    return {**done, "spectra": spectra, "grid": grid, "geometry": geom, "mask_t1": mask, "fractions": f}


def fit_output_names(names) -> dict:
    """``{name: (mask file, picture file)}`` in a fit's output folder: ``voxel_mask.nii.gz`` and
    ``voxel.png`` for one spectrum, ``NAME_voxel_mask.nii.gz`` / ``NAME_voxel.png`` for several."""
    names = list(names)
    if len(names) == 1:
        return {names[0]: ("voxel_mask.nii.gz", "voxel.png")}
    return {n: (f"{n}_voxel_mask.nii.gz", f"{n}_voxel.png") for n in names}


def write_fit_segment_outputs(outdir, fractions: dict, order) -> dict:
    """``fractions.tsv`` (one row per spectrum, in ``order``), the masks and the pictures into a
    fit's (staged) output folder; returns ``{name: picture path}`` for the report."""
    outdir = Path(outdir)
    names = [n for n in order if n in fractions]
    _write_fractions(outdir / "fractions.tsv", [fractions[n]["row"] for n in names])
    files = fit_output_names(names)
    pictures = {}
    for n in names:
        mask_name, png_name = files[n]
        _write_mask_and_png(fractions[n], fractions[n]["row"], outdir / mask_name, outdir / png_name)
        pictures[n] = outdir / png_name
    return pictures
