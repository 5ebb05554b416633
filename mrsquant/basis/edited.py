"""Hadamard-edited basis sets (HERMES, HERCULES): one :class:`Basis` per combination.

On disk an edited basis is a folder holding ``edited.json`` (sequence, combination weights
over the sub-experiments, sub-folder names) and one ordinary mrsquant basis folder per
combination (``sum/``, ``diff_gaba/``, ``diff_gsh/``), each of which can also be used on
its own (e.g. ``--basis OUT/diff_gaba`` for the GABA difference spectrum alone).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BasisMismatchError, InputError
from ..files import atomic_folder
from .basis import Basis
from .formats import load_mrsquant_folder, read_manifest, write_mrsquant_folder
from .io import load_basis

MANIFEST = "edited.json"


@dataclass(frozen=True, eq=False)
class EditedBasis:
    """Basis spectra of the Hadamard combinations of an edited acquisition.

    Parameters
    ----------
    bases : dict of str to Basis
        One basis per combination (``sum`` first), all with the same names in the same order
        (a metabolite without signal in a combination has an all-zero FID there).
    weights : dict of str to tuple of float
        Each combination's weights over the sub-experiments (A, B, C, D).
    sequence : str
        ``hermes`` or ``hercules``.
    """

    bases: dict
    weights: dict
    sequence: str = "hermes"

    def __post_init__(self):
        if set(self.bases) != set(self.weights):
            raise BasisMismatchError("edited basis: combinations and weights do not match")
        first = next(iter(self.bases.values()))
        for name, b in self.bases.items():
            if b.names != first.names or b.n_points != first.n_points or b.dwelltime_s != first.dwelltime_s:
                raise BasisMismatchError(f"edited basis: combination {name!r} differs from "
                                         f"the first in names or grid")
        sizes = {len(w) for w in self.weights.values()}
        if len(sizes) != 1:
            raise BasisMismatchError("edited basis: combinations have different numbers of weights")

    @property
    def names(self) -> tuple:
        return next(iter(self.bases.values())).names

    @property
    def combinations(self) -> tuple:
        return tuple(self.bases)

    @property
    def n_conditions(self) -> int:
        return len(next(iter(self.weights.values())))

    @property
    def te_ms(self):
        return next(iter(self.bases.values())).te_ms

    @property
    def spectrometer_frequency_mhz(self) -> float:
        return next(iter(self.bases.values())).spectrometer_frequency_mhz

    def select(self, names) -> "EditedBasis":
        return EditedBasis({k: b.select(names) for k, b in self.bases.items()}, self.weights,
                           self.sequence)

    def drop(self, names) -> "EditedBasis":
        return EditedBasis({k: b.drop(names) for k, b in self.bases.items()}, self.weights,
                           self.sequence)

    def stacked(self) -> np.ndarray:
        """FIDs ``(M, S, P)``: each metabolite's combinations in order."""
        return np.stack([b.fids for b in self.bases.values()], axis=1)

    def __repr__(self):
        return (f"EditedBasis({self.sequence}: {', '.join(self.bases)}; {len(self.names)} spectra: "
                f"{', '.join(self.names)})")


def is_edited_folder(path) -> bool:
    return Path(path).is_dir() and (Path(path) / MANIFEST).is_file()


def save_edited_basis(basis: EditedBasis, path) -> Path:
    """Write ``basis`` as ``path/edited.json`` plus one mrsquant basis folder per combination."""

    def fill(tmp: Path):
        for name, b in basis.bases.items():
            write_mrsquant_folder(b, tmp / name)
        manifest = {"format": "mrsquant-edited-basis", "version": 1, "sequence": basis.sequence,
                    "combinations": {k: list(map(float, w)) for k, w in basis.weights.items()},
                    "folders": {k: k for k in basis.bases}}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")

    with atomic_folder(Path(path)) as tmp:
        fill(Path(tmp))
    return Path(path)


def load_edited_basis(path) -> EditedBasis:
    """Read a folder written by :func:`save_edited_basis`."""

    path = Path(path)
    man = read_manifest(path, "mrsquant-edited-basis", "edited-basis", MANIFEST)
    bases = {}
    for k, folder in man["folders"].items():
        if not (path / folder).is_dir():
            raise InputError(f"{path}: manifest lists combination folder {folder} but it is missing")
        bases[k] = load_mrsquant_folder(path / folder)
    weights = {k: tuple(w) for k, w in man["combinations"].items()}
    return EditedBasis(bases=bases, weights=weights, sequence=man.get("sequence", "hermes"))


def as_basis_or_edited(obj) -> Basis | EditedBasis:
    """``obj`` (path, Basis or EditedBasis) as a Basis or an EditedBasis."""
    if isinstance(obj, (Basis, EditedBasis)):
        return obj
    if is_edited_folder(obj):
        return load_edited_basis(obj)
    return load_basis(obj)
