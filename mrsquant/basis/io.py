"""Basis import/export: ``load_basis(path)`` and ``save_basis(basis, path)``.

The formats are declared here in one static table. ``load_basis`` asks each loader in
``BASIS_LOADERS`` in turn and uses the first that claims the path (order matters: jMRUI
folders hold .txt files and must come before the challenge text folder); ``save_basis``
picks the writer by the output name. Adding a format is one module in this package plus one
line in each table. Formats of spectra (not bases) are in :mod:`mrsquant.io.registry`.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from . import formats, lcmodel
from .basis import Basis

#: (name, can_load(path) -> bool, load(path, **kw) -> Basis), tried in this order
BASIS_LOADERS: tuple = (
    ("jMRUI text", formats.is_jmrui, formats.load_jmrui),
    ("text folder", formats.is_text_folder, formats.load_text_folder),
    ("LCModel .BASIS", lcmodel.is_basis_file, lcmodel.read_lcmodel_basis),
    ("LCModel .RAW folder", lcmodel.is_raw_basis_folder, lcmodel.read_raw_basis_folder),
    ("mrsquant basis folder", formats.is_mrsquant_folder, formats.load_mrsquant_folder),
    ("FSL-MRS JSON folder", formats.is_fsl_folder, formats.load_fsl_folder),
)

#: (wants(path) -> bool, write(basis, path)), first match wins
BASIS_WRITERS: tuple = (
    (lcmodel.wants_basis_file, lcmodel.write_lcmodel_basis),
    (formats.wants_folder, formats.write_mrsquant_folder),
    (formats.wants_jmrui, formats.write_jmrui),
)


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
    """Write ``basis`` in the format the output name asks for (``.BASIS``, ``.txt`` jMRUI, else a folder)."""
    path = Path(path)
    for wants, write in BASIS_WRITERS:
        if wants(path):
            write(basis, path)
            return path
    raise InputError(f"{path}: cannot tell the basis output format from the name")
