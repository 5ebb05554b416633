"""Plain-text FIDs: the ISMRM 2016 fitting-challenge format and 2-column text.

The challenge files hold 4 columns (water-suppressed FID real, imaginary;
water FID real, imaginary) and no header. A text file carries no metadata, so
the values come from, in order: keyword arguments, a JSON sidecar next to the
file (``name.json`` with ``spectrometer_frequency_mhz``, ``dwelltime_s``,
``te_ms``, ``tr_ms``), else the challenge's published acquisition (123.2 MHz,
4000 Hz, TE 30 ms), recorded in ``meta['AssumedParameters']`` so that ``info``
and reports say the values were assumed. The data are already in the
NIfTI-MRS sign convention (NAA lands at 2.01 ppm without conjugation).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..spectra import Spectra

CHALLENGE_DEFAULTS = {"spectrometer_frequency_mhz": 123.2, "dwelltime_s": 1 / 4000.0,
                      "te_ms": 30.0, "tr_ms": None}


def _check_last_line(path: Path) -> None:
    """A headerless text FID declares no length; a last line cut short is the one
    truncation we can see: no final newline and not as wide as the first line."""
    raw = Path(path).read_bytes()
    if not raw or raw.endswith((b"\n", b"\r")):
        return
    lines = raw.splitlines()
    if len(lines) > 1 and len(lines[-1].rstrip()) != len(lines[0].rstrip()):
        raise InputError(f"{path}: the last line is cut short (no newline, narrower than the "
                         f"first): truncated file")


def _parse_columns(path: Path) -> np.ndarray:
    _check_last_line(path)
    try:
        arr = np.loadtxt(path, ndmin=2, comments=("#", "%"))
    except ValueError as exc:
        raise InputError(f"{path}: not numeric column text ({str(exc).splitlines()[0]})") from exc
    if arr.shape[1] not in (2, 4):
        raise InputError(f"{path}: expected 2 or 4 numeric columns, found {arr.shape[1]}")
    return arr


def text_metadata(path: Path, overrides: dict) -> tuple[dict, list[str]]:
    params = dict(CHALLENGE_DEFAULTS)
    assumed = set(k for k, v in params.items() if v is not None)
    sidecar = path.with_suffix(".json")
    if sidecar.exists():
        side = json.loads(sidecar.read_text())
        for k in params:
            if k in side:
                params[k] = side[k]
                assumed.discard(k)
    for k, v in overrides.items():
        if k in params and v is not None:
            params[k] = v
            assumed.discard(k)
    return params, sorted(assumed)


def read_text(path, *, part: str = "metabolite", **overrides) -> Spectra:
    """Read a 2- or 4-column text FID; ``part='water'`` returns columns 3-4."""
    path = Path(path)
    arr = _parse_columns(path)
    if part == "water":
        if arr.shape[1] != 4:
            raise InputError(f"{path}: no water columns (needs 4 columns)")
        fid = arr[:, 2] + 1j * arr[:, 3]
    else:
        fid = arr[:, 0] + 1j * arr[:, 1]
    params, assumed = text_metadata(path, overrides)
    meta = {"OriginalFile": [path.name], "ConversionMethod": "mrsquant text reader"}
    if assumed:
        meta["AssumedParameters"] = assumed
    return Spectra(data=fid, dims=(), meta=meta, **params)


def water_partner(path) -> Spectra | None:
    """The water FID of a 4-column challenge file, or None."""
    path = Path(path)
    with open(path) as fh:
        first = fh.readline().split()
    if len(first) != 4:
        return None
    return read_text(path, part="water")


def _looks_numeric(head: bytes) -> bool:
    try:
        lines = head.decode("ascii").strip().splitlines()[:3]
    except UnicodeDecodeError:
        return False
    if not lines:
        return False
    try:
        return all(len(line.split()) in (2, 4) and [float(x) for x in line.split()] for line in lines)
    except ValueError:
        return False


class TextReader:
    name = "text"
    description = "2- or 4-column text FID (ISMRM fitting challenge)"

    @staticmethod
    def can_read(path: Path, head: bytes) -> bool:
        return path.suffix.lower() in (".txt", ".dat", ".csv", "") and _looks_numeric(head)

    read = staticmethod(read_text)


TEXT_READER = TextReader()
