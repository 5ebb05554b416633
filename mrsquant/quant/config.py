"""Quantification parameters: defaults for 3T from the literature, overridable by a TOML file.

Keys (docs/quantification.md)::

    [tissue]     gm, wm, csf                       volume fractions (sum to 1)
    [water]      content.gm/.wm/.csf               g/mL
                 t1_ms.gm/.wm/.csf, t2_ms.gm/.wm/.csf
    [metabolite] t1_ms, t2_ms                      scalars, or tables {name = value}
    [sequence]   te_ms, tr_ms                      override the header
    [basis]      proton_scale                      basis amplitude of one proton at unit
                                                   concentration (1 for mrsquant and challenge bases)
"""
from __future__ import annotations

import copy
import tomllib
from pathlib import Path

from ..errors import InputError

#: 3T defaults. Water content: Ernst 1993 (GM 0.78, WM 0.65, CSF 0.97 g/mL);
#: water T1/T2 at 3T: Wansapura 1999 / Lu 2005 (GM 1820/99 ms, WM 1084/69 ms, CSF 4163/503 ms);
#: metabolite T1 ~1400 ms, T2 ~160 ms (Mlynarik 2001; Traber 2004; challenge README uses T2 160).
DEFAULTS = {
    "tissue": {"gm": 0.6, "wm": 0.4, "csf": 0.0},
    "water": {
        "content": {"gm": 0.78, "wm": 0.65, "csf": 0.97},
        "t1_ms": {"gm": 1820.0, "wm": 1084.0, "csf": 4163.0},
        "t2_ms": {"gm": 99.0, "wm": 69.0, "csf": 503.0},
    },
    "metabolite": {"t1_ms": 1400.0, "t2_ms": 160.0},
    "sequence": {},
    "basis": {"proton_scale": 1.0},
}

PURE_WATER_MM = 55510.0  # mmol/L of pure water at 37 C (1 g/mL / 18.015 g/mol)
WATER_PROTONS = 2


def _merge(base: dict, new: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in new.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def load_quant_config(path=None, **overrides) -> dict:
    """Defaults merged with a TOML file and keyword overrides; validated."""
    cfg = copy.deepcopy(DEFAULTS)
    if path is not None:
        path = Path(path)
        try:
            cfg = _merge(cfg, tomllib.loads(path.read_text()))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InputError(f"{path}: cannot read quantification config: {exc}") from exc
    cfg = _merge(cfg, overrides)
    tissue = cfg["tissue"]
    total = sum(float(tissue.get(k, 0.0)) for k in ("gm", "wm", "csf"))
    if abs(total - 1.0) > 0.02:
        raise InputError(f"tissue fractions gm+wm+csf must sum to 1, got {total:.3f}")
    if tissue.get("csf", 0.0) >= 1.0:
        raise InputError("CSF fraction must be < 1")
    for key in ("t1_ms", "t2_ms"):
        for t, v in cfg["water"][key].items():
            if not 1.0 <= float(v) <= 10000.0:
                raise InputError(f"water {key}.{t} = {v} is not a plausible time in ms")
    return cfg


def tissue_given(path=None) -> bool:
    """Whether a quant TOML file types the tissue fractions itself (a ``[tissue]`` section):
    only then are fractions "known" and the CSF- and alpha-corrected columns written."""
    if path is None:
        return False
    try:
        return "tissue" in tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return False
