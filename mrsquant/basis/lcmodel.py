"""LCModel basis sets: ``.BASIS`` files (read, write) and folders of ``.RAW`` FIDs (read).

The ``.BASIS`` layout (LCModel manual Sec 8.6) and the namelist parser are described in
:mod:`mrsquant.io.lcmodel`, which also reads the single ``.RAW`` files used here.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..errors import InputError, MetadataError
from ..files import atomic_path
from ..io.lcmodel import (
    Namelist,
    check_fixed_width,
    complex_pairs,
    f0_from,
    fortran_e,
    namelist_value,
    parse_namelists,
    read_lcmodel_raw,
    read_text,
)
from .basis import Basis


def is_basis_file(path) -> bool:
    """An LCModel ``.BASIS`` file (by suffix)."""
    path = Path(path)
    return path.is_file() and path.suffix.lower() == ".basis"


def wants_basis_file(path) -> bool:
    """An output name that asks for an LCModel ``.BASIS`` file."""
    return Path(path).suffix.lower() == ".basis"


def _basis_blocks(groups: list[Namelist], path) -> tuple[dict, dict, list[tuple[dict, dict, str]]]:
    seqpar = next((g.values for g in groups if g.name == "SEQPAR"), {})
    basis1 = next((g.values for g in groups if g.name == "BASIS1"), None)
    if basis1 is None:
        raise InputError(f"{path}: no $BASIS1 namelist (not an LCModel .BASIS file)")
    blocks, nmused = [], {}
    for g in groups:
        if g.name == "NMUSED":
            nmused = g.values
        elif g.name == "BASIS":
            blocks.append((g.values, nmused, g.after))
            nmused = {}
    if not blocks:
        raise InputError(f"{path}: .BASIS file holds no $BASIS spectra")
    return seqpar, basis1, blocks


def read_lcmodel_basis(path, **_):
    """Read an LCModel ``.BASIS`` file into a :class:`mrsquant.basis.Basis`.

    ``Basis.scaling`` holds each spectrum's ``CONC`` (the concentration the
    basis spectrum represents, LCModel manual Sec 8.6.3), provenance keeps
    HZPPPM, ECHOT, SEQ, BADELT, NDATAB, FMTBAS and per-spectrum ISHIFT, TRAMP,
    VOLUME.
    """
    path = Path(path)
    groups = parse_namelists(read_text(path))
    seqpar, basis1, blocks = _basis_blocks(groups, path)
    f0 = f0_from(seqpar) or f0_from(basis1)
    dwell = basis1.get("BADELT")
    ndatab = basis1.get("NDATAB")
    if not f0 or not dwell or not ndatab:
        raise MetadataError(f"{path}: .BASIS header lacks HZPPPM, BADELT or NDATAB")
    ndatab = int(ndatab)
    spectra, names, concs, extra = [], [], [], []
    for vals, _nmused, text in blocks:
        name = str(vals.get("METABO", vals.get("ID", ""))).strip()
        check_fixed_width(text, basis1.get("FMTBAS"), path, f"basis spectrum {name!r}")
        spec = complex_pairs(text, path, f"basis spectrum {name!r}")
        if spec.size != ndatab:
            raise InputError(f"{path}: basis spectrum {name!r} has {spec.size} points, NDATAB={ndatab}: "
                             f"truncated file")
        ishift = int(vals.get("ISHIFT") or 0)
        spectra.append(np.roll(spec, -ishift))
        names.append(name)
        conc = vals.get("CONC")
        concs.append(float(conc) if isinstance(conc, (int, float)) and conc > 0 else 1.0)
        extra.append({"ISHIFT": ishift, "TRAMP": vals.get("TRAMP"), "VOLUME": vals.get("VOLUME"),
                      "ID": vals.get("ID")})
    fids = np.fft.ifft(np.array(spectra), axis=1) * math.sqrt(ndatab)
    half = ndatab // 2
    tail = np.linalg.norm(fids[:, half:]) / max(np.linalg.norm(fids), 1e-300)
    zero_filled = ndatab % 2 == 0 and tail < 1e-4  # text rounding leaves ~1e-5
    if zero_filled:
        fids = fids[:, :half]
    te = seqpar.get("ECHOT")
    te = float(te) if isinstance(te, (int, float)) and te > 0 else None
    seq = str(seqpar.get("SEQ") or "").strip().lower() or "unknown"
    provenance = {"source": str(path), "format": "LCModel .BASIS",
                  "HZPPPM": f0, "BADELT": dwell, "NDATAB": ndatab,
                  "FMTBAS": basis1.get("FMTBAS"), "IDBASI": basis1.get("IDBASI"),
                  "zero_filled": bool(zero_filled), "spectra": dict(zip(names, extra)),
                  "original_names": names}
    return Basis(fids=fids, names=tuple(names), dwelltime_s=float(dwell),
                 spectrometer_frequency_mhz=float(f0), te_ms=te, sequence=seq,
                 scaling=np.array(concs), provenance=provenance)


def write_lcmodel_basis(basis, path, *, digits: int = 17, zero_fill: bool = True) -> None:
    """Write a :class:`mrsquant.basis.Basis` as an LCModel ``.BASIS`` file.

    Each FID is zero-filled to twice its length (LCModel's ``NDATAB =
    2*NUNFIL``), transformed with the inverse of the reader's transform
    (``ISHIFT = 0``) and written with ``digits`` digits after the point. The
    file is written to a temporary name and renamed.
    """
    path = Path(path)
    fids = np.asarray(basis.fids)
    n = fids.shape[1]
    ndatab = 2 * n if zero_fill else n
    full = np.zeros((fids.shape[0], ndatab), complex)
    full[:, :n] = fids
    spectra = np.fft.fft(full, axis=1) / math.sqrt(ndatab)
    width = digits + 8
    per_line = 2
    seq = basis.sequence if basis.sequence != "unknown" else ""
    out = [" $SEQPAR",
           " FWHMBA = -1.,",
           f" HZPPPM = {namelist_value(basis.spectrometer_frequency_mhz)},",
           f" ECHOT = {namelist_value(float(basis.te_ms) if basis.te_ms is not None else -1.0)},",
           f" SEQ = {namelist_value(seq)}",
           " $END",
           " $BASIS1",
           f" IDBASI = {namelist_value(str(basis.provenance.get('IDBASI') or 'mrsquant'))},",
           f" FMTBAS = '({per_line * 2}E{width}.{digits})',",
           f" BADELT = {namelist_value(basis.dwelltime_s)},",
           f" NDATAB = {ndatab}",
           " $END"]
    for name, conc, spec in zip(basis.names, basis.scaling, spectra):
        out += [" $NMUSED", " FILRAW = 'mrsquant',", " $END",
                " $BASIS", f" ID = {namelist_value(name)},", f" METABO = {namelist_value(name)},",
                f" CONC = {namelist_value(float(conc))},", " TRAMP = 1.,", " VOLUME = 1.,", " ISHIFT = 0", " $END"]
        vals = np.empty(2 * ndatab)
        vals[0::2], vals[1::2] = spec.real, spec.imag
        for i in range(0, vals.size, per_line * 2):
            out.append("".join(f"{fortran_e(v, digits):>{width}}" for v in vals[i:i + per_line * 2]))
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(out) + "\n")


def _raw_folder_files(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".raw")


def is_raw_basis_folder(path) -> bool:
    """A folder of LCModel ``.RAW`` files, one per metabolite (no .BASIS inside)."""
    path = Path(path)
    return path.is_dir() and bool(_raw_folder_files(path))


def read_raw_basis_folder(path, *, dwelltime_s: float | None = None,
                          spectrometer_frequency_mhz: float | None = None,
                          te_ms: float | None = None, sequence: str = "unknown", **_):
    """A folder of LCModel ``.RAW`` basis FIDs (one metabolite per file, name = stem)."""
    path = Path(path)
    files = _raw_folder_files(path)
    spectra = [read_lcmodel_raw(f, dwelltime_s=dwelltime_s,
                                spectrometer_frequency_mhz=spectrometer_frequency_mhz,
                                te_ms=te_ms, _partner=False) for f in files]
    lengths = {s.n_points for s in spectra}
    if len(lengths) != 1:
        raise InputError(f"{path}: .RAW basis files have different lengths {sorted(lengths)}")
    first = spectra[0]
    assumed = sorted({a for s in spectra for a in s.meta.get("AssumedParameters", [])})
    prov = {"source": str(path), "format": "LCModel .RAW folder"}
    if assumed:
        prov["AssumedParameters"] = assumed
    return Basis(fids=np.array([s.data for s in spectra]), names=tuple(f.stem for f in files),
                 dwelltime_s=first.dwelltime_s, spectrometer_frequency_mhz=first.spectrometer_frequency_mhz,
                 te_ms=first.te_ms, sequence=sequence, provenance=prov)
