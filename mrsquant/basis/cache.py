"""A cache of parsed basis sets, resampled to the data's grid, so a second ``mrsquant fit``
with the same basis skips the parse (an LCModel .BASIS: about 1 s) and the resampling.

An entry is keyed by the mrsquant version, the SHA-256 of the basis file's bytes (a folder:
of every file's relative name and bytes, so an edited file is a new key) and the data grid
(points, dwell time) the basis was resampled to. It is one ``.npz`` file (FIDs, scaling and
the header as JSON, no pickles) under :func:`cache_root` ``/parsed``, written atomically; an
entry that cannot be read or does not match its key is ignored and rebuilt.

The cache root is ``$MRSQUANT_CACHE``, else ``$XDG_CACHE_HOME/mrsquant``, else
``~/.cache/mrsquant``; ``MRSQUANT_NO_CACHE=1`` (or ``--no-cache``, ``cache=False``) turns
caching off. A cache that cannot be written (read-only home) only costs the speed.
Simulated bases (:mod:`mrsquant.basis.like`) are cached under the same root, in ``basis/``.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from .. import __version__
from ..files import atomic_path
from .basis import Basis
from .io import load_basis

CACHE_ENV = "MRSQUANT_CACHE"
NO_CACHE_ENV = "MRSQUANT_NO_CACHE"
#: bump when the entry layout changes (old entries are then simply not found)
ENTRY_FORMAT = 1
_HEADER_FIELDS = ("names", "dwelltime_s", "spectrometer_frequency_mhz", "te_ms", "sequence",
                  "centre_ppm", "provenance")


def cache_root() -> Path:
    """``$MRSQUANT_CACHE``, else ``$XDG_CACHE_HOME/mrsquant``, else ``~/.cache/mrsquant``."""
    root = os.environ.get(CACHE_ENV)
    if root:
        return Path(root)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "mrsquant"


def cache_enabled(cache: bool = True) -> bool:
    """False when ``cache`` is False or ``$MRSQUANT_NO_CACHE`` is set to anything but 0/empty."""
    return bool(cache) and os.environ.get(NO_CACHE_ENV, "").strip().lower() in ("", "0", "false", "no")


def content_hash(path) -> str:
    """SHA-256 of a file's bytes; of a folder: of each file's relative name and bytes (sorted,
    hidden files left out)."""
    path = Path(path)
    h = hashlib.sha256()
    if path.is_dir():
        files = sorted(p for p in path.rglob("*")
                       if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts))
        for f in files:
            name = f.relative_to(path).as_posix().encode()
            h.update(len(name).to_bytes(8, "little") + name)
            data = f.read_bytes()
            h.update(len(data).to_bytes(8, "little") + data)
    else:
        h.update(path.read_bytes())
    return h.hexdigest()


def _entry_key(digest: str, n_points, dwelltime_s) -> str:
    grid = None if n_points is None else [int(n_points), repr(round(float(dwelltime_s), 12))]
    text = json.dumps([ENTRY_FORMAT, __version__, digest, grid])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _header(basis: Basis) -> dict | None:
    """The basis' header as JSON-able data, or None when it would not come back identical."""
    head = {k: getattr(basis, k) for k in _HEADER_FIELDS}
    head["names"] = list(head["names"])
    try:
        text = json.dumps(head)
    except (TypeError, ValueError):
        return None
    return head if json.loads(text) == head else None


def _read_entry(file: Path, key: str) -> Basis | None:
    try:
        with np.load(file, allow_pickle=False) as z:
            head = json.loads(str(z["header"]))
            if head.pop("key") != key:
                return None
            return Basis(fids=z["fids"], scaling=z["scaling"], **dict(head, names=tuple(head["names"])))
    except Exception:   # damaged, truncated, an older layout: rebuilt, never trusted
        return None


def _write_entry(file: Path, key: str, basis: Basis) -> None:
    head = _header(basis)
    if head is None:
        return
    try:
        with atomic_path(file) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, fids=basis.fids, scaling=basis.scaling,
                         header=np.array(json.dumps(dict(head, key=key))))
    except OSError:     # read-only or full cache folder: correct, only slower next time
        pass


def load_basis_cached(path, *, n_points: int | None = None, dwelltime_s: float | None = None,
                      cache: bool = True) -> Basis:
    """:func:`~mrsquant.basis.io.load_basis` ``(path)``, resampled to ``(dwelltime_s, n_points)``
    when both are given, through the cache.

    The result equals ``load_basis(path).resample(dwelltime_s, n_points)`` (the same arrays,
    bit for bit); errors are those of ``load_basis``.
    """

    path = Path(path)
    if not cache_enabled(cache) or not path.exists():
        return _resampled(load_basis(path), n_points, dwelltime_s)
    try:
        key = _entry_key(content_hash(path), n_points, dwelltime_s)
    except OSError:
        return _resampled(load_basis(path), n_points, dwelltime_s)
    file = cache_root() / "parsed" / f"{key}.npz"
    if file.is_file():
        hit = _read_entry(file, key)
        if hit is not None:
            return hit
    basis = _resampled(load_basis(path), n_points, dwelltime_s)
    _write_entry(file, key, basis)
    return basis


def _resampled(basis: Basis, n_points, dwelltime_s) -> Basis:
    if n_points is None or dwelltime_s is None:
        return basis
    return basis.resample(float(dwelltime_s), int(n_points))
