"""A basis simulated to match a data file's header: sequence, TE, field, points, bandwidth.

``mrsquant fit`` without ``--basis`` and ``mrsquant basis simulate --like FILE`` use
it. The sequence comes from the header's sequence or protocol name (Siemens
``svs_se`` / ``svs_st``, Philips ``PRESS`` / ``STEAM``, sLASER, MEGA); when the name
says nothing the user must give ``--sequence``. Simulated bases are cached by
their parameters (``basis/`` in :func:`mrsquant.basis.cache.cache_root`), written
atomically, so a cohort pays the simulation once.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from .. import __version__
from ..errors import InputError
from .cache import cache_enabled, cache_root
from .io import load_basis, save_basis
from .simulate import simulate_basis

#: (substring of the lower-case sequence/protocol name, sequence); first match wins
SEQUENCE_PATTERNS = (
    ("mega", "mega-press"), ("slaser", "slaser"), ("semi-laser", "slaser"), ("semilaser", "slaser"),
    ("svs_slaser", "slaser"), ("laser", "slaser"), ("steam", "steam"), ("svs_st", "steam"),
    ("press", "press"), ("svs_se", "press"), ("prs", "press"),
)

#: short-TE spectra get LCModel-style MM/lipid components (docs/fitting.md)
SHORT_TE_MS = 40.0


def sequence_from_header(meta: dict) -> str | None:
    """Sequence family from NIfTI-MRS header keys (SequenceName, ProtocolName...), or None."""
    text = " ".join(str(meta.get(k, "")) for k in ("SequenceName", "PulseSequenceType", "ProtocolName",
                                                   "SequenceTriggered")).lower()
    for pattern, sequence in SEQUENCE_PATTERNS:
        if pattern in text:
            return sequence
    return None


def like_parameters(spectra, *, sequence: str | None = None) -> dict:
    """The ``simulate_basis`` arguments that match ``spectra``; a clear error when one is unknown."""
    seq = sequence or sequence_from_header(spectra.meta or {})
    if seq is None:
        raise InputError("the file's header does not name its sequence (PRESS, STEAM, sLASER, MEGA): "
                         "give --sequence, or --basis")
    if seq == "mega-press":
        raise InputError("edited (MEGA) data: simulate the DIFF basis with `mrsquant basis simulate "
                         "--sequence mega-press --edit-ppm 1.9 ...` and pass --basis")
    if spectra.te_ms is None:
        raise InputError("the file's header has no echo time: give --basis")
    params = {"sequence": seq, "te_ms": float(spectra.te_ms),
              "field_mhz": float(spectra.spectrometer_frequency_mhz), "n_points": int(spectra.n_points),
              "bandwidth_hz": float(round(1.0 / spectra.dwelltime_s, 6)),
              "macromolecules": "standard" if float(spectra.te_ms) <= SHORT_TE_MS else None}
    if seq == "steam":
        tm = (spectra.meta or {}).get("MixingTime")
        tm_ms = float(tm) * 1e3 if isinstance(tm, (int, float)) and 0 < float(tm) < 1 else None
        if tm_ms is not None:
            params["tm_ms"] = tm_ms
    return params


def _cache_dir() -> Path:
    return cache_root() / "basis"


def basis_like(spectra, *, sequence: str | None = None, cache: bool = True):
    """``(Basis, parameters)`` simulated for ``spectra`` (cached by its parameters)."""

    cache = cache_enabled(cache)
    params = like_parameters(spectra, sequence=sequence)
    key = hashlib.sha1(json.dumps([__version__, params], sort_keys=True).encode()).hexdigest()[:16]
    target = _cache_dir() / f"{params['sequence']}_te{params['te_ms']:g}_{key}"
    if cache and target.is_dir():
        try:
            return load_basis(target), params
        except Exception:   # a damaged cache entry is rebuilt, never trusted
            shutil.rmtree(target, ignore_errors=True)
    args = dict(params)
    seq = args.pop("sequence")
    basis = simulate_basis(seq, **args)
    basis.provenance["command"] = "simulated to match the data header: " + json.dumps(params)
    if cache:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".part-", dir=target.parent))
            save_basis(basis, tmp / "basis")
            os.replace(tmp / "basis", target)
            shutil.rmtree(tmp, ignore_errors=True)
        except OSError:      # a read-only home: simulate every time, still correct
            pass
    return basis, params
