"""Small independent helpers for the reader tests (no mrsquant code inside)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np


def peak_ppm(fid, dwelltime_s, f0_mhz, centre_ppm, lo, hi, *, lb_hz=2.0, zero_fill=8):
    """ppm of the largest |spectrum| point in [lo, hi] (zero-filled, light line broadening).

    Written out here with numpy only, so that the test does not trust mrsquant.axes.
    """
    x = np.asarray(fid)
    while x.ndim > 1:
        x = x.mean(axis=0)
    n = x.size
    t = np.arange(n) * dwelltime_s
    y = np.zeros(n * zero_fill, complex)
    y[:n] = x * np.exp(-np.pi * lb_hz * t)
    spec = np.abs(np.fft.fftshift(np.fft.fft(y)))
    hz = np.fft.fftshift(np.fft.fftfreq(y.size, dwelltime_s))
    ppm = centre_ppm - hz / f0_mhz
    m = (ppm >= lo) & (ppm <= hi)
    return float(ppm[m][np.argmax(spec[m])])


def parse_spar(path: Path) -> dict:
    """``key : value`` lines of a Philips SPAR file."""
    out = {}
    for line in Path(path).read_text(errors="replace").splitlines():
        if ":" in line and not line.startswith("!"):
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def parse_rda_header(path: Path) -> dict:
    """``Key: value`` lines between the RDA header markers."""
    out = {}
    with open(path, "rb") as fh:
        for raw in fh:
            line = raw.decode("latin-1").strip()
            if line.startswith(">>> End of header"):
                break
            if ": " in line:
                k, v = line.split(": ", 1)
                out[k] = v
    return out


def procpar_value(folder: Path, key: str) -> str:
    """First value of a Varian procpar parameter."""
    lines = (Path(folder) / "procpar").read_text().splitlines()
    for i, line in enumerate(lines):
        if line.split(" ")[0] == key:
            return lines[i + 1].split(None, 1)[1].strip().strip('"')
    raise KeyError(key)


def namelist_number(text: str, key: str) -> float:
    """A numeric ``KEY = value`` from namelist text (first occurrence)."""
    m = re.search(rf"\b{key}\s*=\s*([-+0-9.EeDd]+)", text, re.I)
    return float(m.group(1).replace("D", "E"))
