"""The shipped spin-system library (``basis/data/spin_systems.json``).

Chemical shifts (ppm) and J couplings (Hz) from Govindaraju et al. 2000 with
the Govind et al. 2015 updates; see docs/basis.md for the structure and the
cross-check against independent tables. A few metabolites also carry cited
alternatives from other published tables (``variants``), used only on request.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import InputError
from .names import canonical_name

LIBRARY_PATH = Path(__file__).with_name("data") / "spin_systems.json"

#: spin quantum number of the heteronuclei that appear in the tables
HETERO_SPIN = {"31P": 0.5, "14N": 1.0, "13C": 0.5, "15N": 0.5}


@dataclass(frozen=True)
class SpinGroup:
    """One independent spin group.

    Attributes
    ----------
    shifts_ppm : (n_spins,) float ndarray
        1H chemical shift of each spin; NaN for a heteronucleus.
    nuclei : tuple of str
    j_hz : (n_spins, n_spins) float ndarray
        Symmetric J coupling matrix (Hz), zero diagonal.
    scale : float
        Multiplier of the group signal (equivalent protons, anomer fraction).
    name : str
    """

    shifts_ppm: np.ndarray
    nuclei: tuple
    j_hz: np.ndarray
    scale: float = 1.0
    name: str = ""

    @property
    def proton_mask(self) -> np.ndarray:
        return np.array([n == "1H" for n in self.nuclei])

    @property
    def n_protons(self) -> float:
        return float(self.proton_mask.sum() * self.scale)


def _group_from_dict(g: dict) -> SpinGroup:
    shifts = np.array([np.nan if s is None else float(s) for s in g["shifts_ppm"]])
    nuclei = tuple(g.get("nuclei") or ["1H"] * len(shifts))
    n = len(shifts)
    J = np.zeros((n, n))
    for i, j, val in g.get("j_hz", []):
        J[int(i), int(j)] = J[int(j), int(i)] = float(val)
    for nuc in nuclei:
        if nuc != "1H" and nuc not in HETERO_SPIN:
            raise InputError(f"spin group {g.get('name')!r}: unknown nucleus {nuc!r}")
    if np.any(np.isnan(shifts[np.array([n == "1H" for n in nuclei])])):
        raise InputError(f"spin group {g.get('name')!r}: a 1H spin has no chemical shift")
    return SpinGroup(shifts, nuclei, J, float(g.get("scale", 1.0)), g.get("name", ""))


@lru_cache(maxsize=4)
def _load(path: str) -> dict:
    return json.loads(Path(path).read_text())


def library(path=None) -> dict:
    """The raw library as a dict ``{name: entry}`` (``entry['groups']``, ``['source']``...)."""
    return _load(str(path or LIBRARY_PATH))["metabolites"]


def _entry(name: str, path=None) -> dict:
    lib = library(path)
    key = canonical_name(name)
    if key not in lib:
        raise InputError(f"no spin system for {name!r}; the library has {', '.join(lib)}")
    return lib[key]


def spin_system(name: str, path=None, *, variant: str | None = None) -> list[SpinGroup]:
    """Spin groups of metabolite ``name`` (canonical name or alias).

    ``variant`` selects a cited alternative table entry (see :func:`variants`);
    None gives the default (Govindaraju 2000 / Govind 2015).
    """
    entry = _entry(name, path)
    if variant is not None:
        known = entry.get("variants", {})
        if variant not in known:
            raise InputError(f"{name!r} has no variant {variant!r}; "
                             f"known: {', '.join(known) or 'none'}")
        entry = known[variant]
    return [_group_from_dict(g) for g in entry["groups"]]


def variants(name: str, path=None) -> dict[str, str]:
    """Alternative table entries of ``name``: ``{variant: source}`` (empty if none)."""
    return {k: v["source"] for k, v in _entry(name, path).get("variants", {}).items()}


def available_metabolites(path=None) -> tuple[str, ...]:
    return tuple(library(path))
