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


def twix_ascconv(path: Path, key: str) -> str:
    """A ``key = value`` entry of the ASCCONV protocol text in a TWIX header."""
    text = Path(path).read_bytes()[:2_000_000].decode("latin-1")
    m = re.search(rf"^{re.escape(key)}\s*=\s*(\S+)", text, re.M)
    if m is None:
        raise KeyError(key)
    return m.group(1).strip('"')


MDH_ACQEND, MDH_SYNCDATA, MDH_PHASCOR = 1 << 0, 1 << 5, 1 << 21


def vb_readouts(path: Path) -> list[tuple[int, np.ndarray]]:
    """(evalInfoMask, complex64 samples) of every channel readout in a VB TWIX file.

    Walks the 128-byte measurement data headers after the header block (its size is
    the first uint32): bytes 20-27 evalInfoMask, 28-29 samples in scan; the samples
    follow each header as complex64.
    """
    raw = Path(path).read_bytes()
    pos, out = int(np.frombuffer(raw[:4], "<u4")[0]), []
    while pos + 128 <= len(raw):
        mdh = raw[pos:pos + 128]
        mask = int.from_bytes(mdh[20:28], "little")
        if mask & MDH_ACQEND:
            break
        if mask & MDH_SYNCDATA:
            pos += int.from_bytes(mdh[0:4], "little") & 0x1FFFFFF
            continue
        n = int.from_bytes(mdh[28:30], "little")
        out.append((mask, np.frombuffer(raw, "<c8", n, pos + 128)))
        pos += 128 + 8 * n
    return out


def seq_adc(path: Path) -> tuple[int, float]:
    """(samples, dwell s) of the single [ADC] event of a Pulseq .seq file."""
    lines = Path(path).read_text().splitlines()
    i = lines.index("[ADC]")
    parts = lines[i + 1].split()
    return int(parts[1]), float(parts[2]) * 1e-9
