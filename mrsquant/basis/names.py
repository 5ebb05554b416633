"""Canonical metabolite names and the aliases that map onto them."""
from __future__ import annotations

import re

CANONICAL = ("NAA", "NAAG", "Cr", "PCr", "GPC", "PCh", "Glu", "Gln", "GABA", "GSH", "Tau",
             "mI", "sI", "Lac", "Asp", "Ala", "PE", "Asc", "Glc", "Gly", "Cit", "Ace", "Scy",
             "bHB", "2HG", "Ser", "Thr", "Val", "EtOH", "H2O", "Mac")

_ALIASES = {
    "naa": "NAA", "nacetylaspartate": "NAA", "naag": "NAAG",
    "cr": "Cr", "creatine": "Cr", "pcr": "PCr", "phosphocreatine": "PCr", "cre": "Cr",
    "gpc": "GPC", "glycerophosphocholine": "GPC",
    "pch": "PCh", "pcho": "PCh", "phosphocholine": "PCh", "cho": "PCh",
    "glu": "Glu", "glutamate": "Glu", "gln": "Gln", "glutamine": "Gln",
    "gaba": "GABA", "gsh": "GSH", "glutathione": "GSH",
    "tau": "Tau", "taurine": "Tau",
    "mi": "mI", "ins": "mI", "myoins": "mI", "myoinositol": "mI", "inositol": "mI", "myo": "mI",
    "si": "sI", "sins": "sI", "scyllo": "sI", "scylloinositol": "sI", "scyllo-ins": "sI", "scy": "sI",
    "lac": "Lac", "lactate": "Lac", "asp": "Asp", "aspartate": "Asp",
    "ala": "Ala", "alanine": "Ala", "pe": "PE", "pea": "PE", "phosphoethanolamine": "PE",
    "asc": "Asc", "ascorbate": "Asc", "glc": "Glc", "glucose": "Glc", "gly": "Gly", "glycine": "Gly",
    "cit": "Cit", "citrate": "Cit", "ace": "Ace", "acetate": "Ace",
    "bhb": "bHB", "2hg": "2HG", "ser": "Ser", "serine": "Ser", "thr": "Thr", "val": "Val",
    "etoh": "EtOH", "ethanol": "EtOH", "h2o": "H2O", "water": "H2O",
    "mac": "Mac", "mm": "Mac", "mmbl": "Mac", "macromolecules": "Mac",
}

#: Combined metabolites: name -> components
COMBINED = {
    "tNAA": ("NAA", "NAAG"),
    "tCr": ("Cr", "PCr"),
    "tCho": ("GPC", "PCh"),
    "Glx": ("Glu", "Gln"),
}


def present_combinations(names, combined=COMBINED) -> dict[str, tuple[str, ...]]:
    """The combined metabolites (tNAA, tCr, ...) whose parts are all in ``names``
    and which ``names`` does not already hold, with their parts."""
    names = set(names)
    return {c: parts for c, parts in combined.items() if c not in names and all(p in names for p in parts)}


def canonical_name(name: str) -> str:
    """Map a basis-file name (``Ins``, ``PCho``, ``sIns``, ``MM09``...) onto our canonical name.

    Macromolecule and lipid components keep a normalised form (``MM09``,
    ``Lip13``); unknown names are returned stripped, unchanged otherwise.
    """
    raw = name.strip()
    key = re.sub(r"[\s_\-\.]", "", raw).lower()
    if key in _ALIASES:
        return _ALIASES[key]
    m = re.fullmatch(r"(mm|lip)(\d+)", key)
    if m:
        return ("MM" if m.group(1) == "mm" else "Lip") + m.group(2)
    return raw


def is_macromolecule(name: str) -> bool:
    n = canonical_name(name)
    return n == "Mac" or n.startswith("MM")


def is_lipid(name: str) -> bool:
    return canonical_name(name).startswith("Lip")
