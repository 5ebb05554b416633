"""Basis import/export: ``load_basis(path)`` walks one ordered registry.

Each loader is ``(name, can_load(path) -> bool, load(path, **kw) -> Basis)``.
Writers are chosen by the output name in ``save_basis``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from .basis import Basis

BASIS_LOADERS: list = []
BASIS_WRITERS: list = []  # (predicate(path) -> bool, function(basis, path))


def register_basis_loader(name: str, can_load, load):
    BASIS_LOADERS.append((name, can_load, load))


def register_basis_writer(predicate, write):
    BASIS_WRITERS.append((predicate, write))


def load_basis(path, **kwargs) -> Basis:
    """Read a basis set (file or folder) in any supported format."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such basis file or folder")
    for name, can_load, load in BASIS_LOADERS:
        if can_load(path):
            try:
                return load(path, **kwargs)
            except InputError:
                raise
            except Exception as exc:
                raise InputError(f"{path}: cannot read as {name} basis: {exc}") from exc
    known = ", ".join(n for n, _, _ in BASIS_LOADERS)
    raise InputError(f"{path}: not a basis format mrsquant reads (known: {known})")


def save_basis(basis: Basis, path) -> Path:
    path = Path(path)
    for predicate, write in BASIS_WRITERS:
        if predicate(path):
            write(basis, path)
            return path
    raise InputError(f"{path}: cannot tell the basis output format from the name")


# -- text folder (ISMRM fitting challenge: one 2-column file per metabolite) --

def _is_text_folder(path: Path) -> bool:
    return path.is_dir() and any(path.glob("*.txt")) and not any(path.glob("*.json"))


def load_text_folder(path: Path, *, spectrometer_frequency_mhz: float = 123.2,
                     dwelltime_s: float = 1 / 4000.0, te_ms: float | None = 30.0,
                     sequence: str = "press", **_) -> Basis:
    """A folder of 2-column text FIDs, one file per metabolite (challenge layout).

    Text carries no header; the defaults are the challenge's acquisition
    (123.2 MHz, 4000 Hz, PRESS TE 30 ms) and can be overridden.
    """
    files = sorted(p for p in path.glob("*.txt") if p.stem.lower() not in ("readme", "licence", "license"))
    fids, names = [], []
    for f in files:
        arr = np.loadtxt(f, ndmin=2)
        if arr.shape[1] < 2:
            raise InputError(f"{f}: expected 2 columns (real, imaginary)")
        fids.append(arr[:, 0] + 1j * arr[:, 1])
        names.append(f.stem)
    lengths = {len(x) for x in fids}
    if len(lengths) != 1:
        raise InputError(f"{path}: basis files have different lengths {sorted(lengths)}")
    return Basis(fids=np.array(fids), names=tuple(names), dwelltime_s=dwelltime_s,
                 spectrometer_frequency_mhz=spectrometer_frequency_mhz, te_ms=te_ms,
                 sequence=sequence, provenance={"source": str(path), "format": "text folder"})


register_basis_loader("text folder", _is_text_folder, load_text_folder)
from ..io import lcmodel as _lcmodel  # noqa: E402,F401  registers LCModel .BASIS and .RAW-folder formats
