"""Readers and writers. ``load(path)`` walks one ordered registry of readers.

Each reader is a small object with ``name``, ``description``,
``can_read(path, head) -> bool`` (``head`` is the first 4 kB of the file, read
once) and ``read(path) -> Spectra``. Writers are chosen by file name in
``save``. Vendor formats go through spec2nii (see ``vendor.py``; Siemens TWIX
through pyMapVBVD and spec2nii, ``twix.py``).
"""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError, MetadataError, MRSQuantError
from ..files import atomic_path
from ..spectra import Spectra
from .registry import READERS, WRITERS
from .vendor import VendorReader

__all__ = ["load", "save", "READERS", "WRITERS", "detect_format"]

_HEAD_BYTES = 4096


def _head(path: Path) -> bytes:
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        return b""
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    with open(path, "rb") as fh:
        return fh.read(_HEAD_BYTES)


def detect_format(path) -> object:
    """The first reader in the registry that claims ``path``."""
    path = Path(path)
    head = _head(path)
    for reader in READERS:
        try:
            if reader.can_read(path, head):
                return reader
        except OSError:
            continue
    known = ", ".join(r.name for r in READERS)
    raise InputError(f"{path}: not a format mrsquant reads (known: {known})")


def load(path, **kwargs) -> Spectra:
    """Read any supported MRS file into :class:`Spectra`.

    Raises :class:`~mrsquant.errors.InputError` or
    :class:`~mrsquant.errors.MetadataError` with a one-line reason.
    """
    path = Path(path)
    reader = detect_format(path)
    try:
        return reader.read(path, **kwargs)
    except MRSQuantError:
        raise
    except Exception as exc:  # a corrupt file surfaces as anything from numpy/nibabel/spec2nii
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot read as {reader.name}: {msg}") from exc


def read_all(path, **kwargs) -> list[Spectra]:
    """Every output spec2nii makes from ``path`` (e.g. metabolite and water reference)."""

    path = Path(path)
    reader = detect_format(path)
    if not isinstance(reader, VendorReader):  # one output per file
        return [load(path, **kwargs)]
    try:
        return reader.read_all(path, **kwargs)
    except (InputError, MetadataError):
        raise
    except Exception as exc:  # same contract as load(): one line, our exception
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot read as {reader.name}: {msg}") from exc


def save(spectra: Spectra, path, **kwargs) -> Path:
    """Write ``spectra`` to ``path``, format chosen by the file name.

    Writes to a temporary file and renames it, so a failure never leaves a
    half-written file behind.
    """
    path = Path(path)
    name = path.name.lower()
    for suffixes, writer in WRITERS:
        if name.endswith(suffixes):
            break
    else:
        known = ", ".join(s for suffixes, _ in WRITERS for s in suffixes)
        raise InputError(f"{path}: cannot tell the output format from the name (known: {known})")
    with atomic_path(path) as tmp:      # keeps the suffix last: nibabel picks the format from it
        writer(spectra, tmp, **kwargs)
    return path
