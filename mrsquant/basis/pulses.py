"""Shaped RF pulses for the simulator: reading, Bloch rotations, slice profiles.

A shaped refocusing pulse is applied to each proton as the one-spin rotation
that its offset (chemical shift relative to the pulse carrier plus the slice
gradient at a position) produces, computed from the pulse shape with the
Cayley-Klein (spinor) form of the Bloch equations. J coupling during the pulse
is neglected (the free evolution of the pulse duration stays in the delays);
this keeps the chemical-shift displacement, the slice profile and the
resulting "four-compartment" J-modulation of coupled spins, which are the
dominant effects of real refocusing pulses. See docs/basis.md.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError


@dataclass(frozen=True)
class ShapedPulse:
    """A pulse shape: complex B1 waveform (arbitrary units) and its bandwidth-time product.

    Attributes
    ----------
    waveform : (n_steps,) complex ndarray
        Relative amplitude times ``exp(i phase)``, equally spaced in time.
    bwtp : float
        Bandwidth (Hz) times duration (s): the slice-selection bandwidth is
        ``bwtp / duration_s``.
    name : str
    adiabatic : bool
        True for adiabatic (frequency-swept) pulses: their B1 is set in Hz
        (``b1_max_hz``), not by a flip angle.
    """

    waveform: np.ndarray
    bwtp: float
    name: str = ""
    adiabatic: bool = False

    def bandwidth_hz(self, duration_s: float) -> float:
        return self.bwtp / duration_s


GAMMA_KHZ_PER_MT = 42.577478


def read_pta(path) -> ShapedPulse:
    """Siemens ``.pta`` pulse file (columns: relative amplitude, phase in rad).

    ``REFGRAD`` (mT/m) is the gradient that selects a 10 mm slice with a
    5.12 ms pulse, so the bandwidth-time product is
    ``REFGRAD * 42.577 kHz/mT * 0.01 m * 5.12 ms``.
    """
    path = Path(path)
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read pulse file ({exc})") from exc
    hdr, amp, phase = {}, [], []
    for line in lines:
        if ":" in line and not line.strip()[0:1].isdigit():
            k, v = line.split(":", 1)
            hdr[k.strip().upper()] = v.strip()
            continue
        parts = line.split(";")[0].split()
        if len(parts) >= 2:
            try:
                amp.append(float(parts[0]))
                phase.append(float(parts[1]))
            except ValueError:
                continue
    if len(amp) < 4 or "REFGRAD" not in hdr:
        raise InputError(f"{path}: not a .pta pulse file (need REFGRAD and amplitude/phase rows)")
    # REFGRAD mT/m * 0.01 m = mT; * 42.577 kHz/mT = kHz; * 5.12 ms = dimensionless
    bwtp = float(hdr["REFGRAD"]) * 0.01 * GAMMA_KHZ_PER_MT * 5.12
    wf = np.asarray(amp) * np.exp(1j * np.asarray(phase))
    return ShapedPulse(wf, bwtp, hdr.get("PULSENAME", path.stem))


def read_rf(path) -> ShapedPulse:
    """Varian/FID-A style ``.RF`` pulse file: ``#`` header lines, then one row per
    point: phase (degrees), amplitude (any scale, e.g. 0-1023), relative time step.

    The bandwidth-time product is taken from ``INVERTWIDTH`` (bandwidth x duration;
    15 for ``sampleAFPpulse_HS2_R15.RF``), else ``R=``. ``MODULATION adiabatic``
    marks the pulse adiabatic. Only equal time steps are supported.
    """
    path = Path(path)
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read pulse file ({exc})") from exc
    hdr, rows = {}, []
    for i, line in enumerate(lines, 1):
        text = line.strip()
        if not text:
            continue
        if text.startswith("#"):
            body = text.lstrip("#").strip()
            m = re.match(r"([A-Za-z][A-Za-z ]*?)\s*(?:=|\s)\s*(-?[\w.+-]+)", body)
            if m:
                hdr.setdefault(m.group(1).strip().upper(), m.group(2))
            continue
        parts = text.split()
        try:
            vals = [float(v) for v in parts]
        except ValueError:
            vals = []
        if len(vals) != 3 or not np.all(np.isfinite(vals)):
            raise InputError(f"{path}: not a .RF pulse file (line {i}: expected 3 numbers "
                             f"'phase_deg amplitude time_step', got {text[:40]!r})")
        rows.append(vals)
    bwtp = hdr.get("INVERTWIDTH", hdr.get("R"))
    if len(rows) < 4 or bwtp is None:
        raise InputError(f"{path}: not a .RF pulse file (need an INVERTWIDTH or R= header "
                         f"and at least 4 rows 'phase_deg amplitude time_step')")
    d = np.asarray(rows)
    if np.any(d[:, 1] < 0) or not np.any(d[:, 1] > 0):
        raise InputError(f"{path}: .RF amplitudes must be >= 0 and not all zero")
    if np.any(d[:, 2] <= 0) or np.ptp(d[:, 2]) > 1e-9 * d[:, 2].max():
        raise InputError(f"{path}: .RF time steps must be equal and positive "
                         f"(unequal steps are not supported)")
    try:
        bwtp = float(bwtp)
    except ValueError:
        raise InputError(f"{path}: .RF header INVERTWIDTH/R is not a number ({bwtp!r})") from None
    wf = d[:, 1] / d[:, 1].max() * np.exp(1j * np.deg2rad(d[:, 0]))
    adiabatic = "ADIABATIC" in hdr.get("MODULATION", "").upper()
    return ShapedPulse(wf, bwtp, path.stem, adiabatic=adiabatic)


def read_pulse(path) -> ShapedPulse:
    """``.RF`` files with :func:`read_rf`, anything else with :func:`read_pta`."""
    return read_rf(path) if Path(path).suffix.lower() == ".rf" else read_pta(path)


def as_pulse(pulse) -> ShapedPulse:
    """A :class:`ShapedPulse` as given, or read from a file with :func:`read_pulse`."""
    return pulse if isinstance(pulse, ShapedPulse) else read_pulse(pulse)


def adiabatic_b1_hz(pulse: ShapedPulse, *, duration_s: float, target: float = 0.99) -> float:
    """Default peak B1 (Hz) of an adiabatic pulse: the lowest on a 5 % grid (from
    0.02 x bandwidth) at which ``|beta|^2 >= target`` over the central half of the
    inversion band (offsets within +-bandwidth/4)."""
    bw = pulse.bandwidth_hz(duration_s)
    off = np.linspace(-bw / 4, bw / 4, 41)
    b1 = 0.02 * bw
    for _ in range(200):
        R = spinor_rotations(pulse, duration_s=duration_s, flip_deg=180.0, offsets_hz=off,
                             b1_max_hz=b1)
        if np.min(np.abs(R[:, 1, 0]) ** 2) >= target:
            return float(b1)
        b1 *= 1.05
    raise InputError(f"pulse {pulse.name!r} does not reach adiabatic inversion at "
                     f"{duration_s * 1e3:g} ms; give the peak B1 explicitly")


def spinor_rotations(pulse: ShapedPulse, *, duration_s: float, flip_deg: float,
                     offsets_hz: np.ndarray, b1_max_hz: float | None = None) -> np.ndarray:
    """One-spin rotations (2 x 2 SU(2) matrices) of the pulse at each offset.

    The B1 amplitude is scaled so that the on-resonance flip angle is
    ``flip_deg``, or, with ``b1_max_hz`` (adiabatic pulses), so that the peak
    amplitude is ``b1_max_hz`` (``flip_deg`` is then unused). The free precession over the pulse is removed
    (``R_eff = exp(i w T/2 Iz) R exp(i w T/2 Iz)``), so the rotation acts at the
    pulse centre and a short, strong pulse tends to the ideal rotation.

    Parameters
    ----------
    offsets_hz : (...,) float ndarray

    Returns
    -------
    (..., 2, 2) complex ndarray in the basis (up, down).
    """
    off = np.asarray(offsets_hz, float)
    wf = np.asarray(pulse.waveform, complex)
    n = wf.size
    dt = duration_s / n
    if b1_max_hz is not None:
        w1 = wf * 2 * np.pi * float(b1_max_hz) / np.max(np.abs(wf))   # rad/s, peak = b1_max
    else:
        area = abs(np.sum(wf)) * dt
        if area == 0:
            raise InputError(f"pulse {pulse.name!r} has zero area")
        w1 = wf * np.deg2rad(flip_deg) / area        # rad/s, on-resonance flip = flip_deg
    dw = 2 * np.pi * off
    a = np.ones(off.shape, complex)                  # Cayley-Klein parameters (alpha, beta)
    b = np.zeros(off.shape, complex)
    for k in range(n):
        bx, by = w1[k].real, w1[k].imag
        phi = np.sqrt(bx ** 2 + by ** 2 + dw ** 2) * dt
        with np.errstate(invalid="ignore", divide="ignore"):
            nx = np.where(phi > 0, bx * dt / phi, 0.0)
            ny = np.where(phi > 0, by * dt / phi, 0.0)
            nz = np.where(phi > 0, dw * dt / phi, 1.0)
        c, s = np.cos(phi / 2), np.sin(phi / 2)
        ak = c - 1j * nz * s
        bk = -1j * (nx + 1j * ny) * s
        a, b = ak * a - np.conj(bk) * b, bk * a + np.conj(ak) * b
    # R = [[a, -conj(b)], [b, conj(a)]] ; undo the free precession of T/2 on each side
    R = np.empty(off.shape + (2, 2), complex)
    half = np.exp(1j * dw * duration_s / 4)          # exp(i w (T/2) Iz) -> diag(half, 1/half)
    R[..., 0, 0] = a * half * half
    R[..., 0, 1] = -np.conj(b) * half / half
    R[..., 1, 0] = b * half / half
    R[..., 1, 1] = np.conj(a) / (half * half)
    return R


def kron_rotations(r: np.ndarray) -> np.ndarray:
    """Kronecker product of one-spin rotations ``r`` (n_spins, 2, 2) -> (2**n, 2**n).

    Spin 0 is the most significant bit, as in the simulator's product basis.
    """
    R = np.ones((1, 1), complex)
    for k in range(r.shape[0]):
        R = np.kron(R, r[k])
    return R


def inversion_profile(pulse: ShapedPulse, *, duration_s: float, offsets_hz,
                      flip_deg: float = 180.0) -> np.ndarray:
    """``|beta|^2`` of the pulse at each offset: the fraction of Iz inverted (1 = full inversion)."""
    R = spinor_rotations(pulse, duration_s=duration_s, flip_deg=flip_deg,
                         offsets_hz=np.asarray(offsets_hz, float))
    return np.abs(R[..., 1, 0]) ** 2


def inversion_fwhm_hz(pulse: ShapedPulse, *, duration_s: float, flip_deg: float = 180.0) -> float:
    """Full width (Hz) of the region where ``|beta|^2 >= 0.5`` (searched within +-20/T)."""
    off = np.linspace(-20 / duration_s, 20 / duration_s, 8001)
    inside = off[inversion_profile(pulse, duration_s=duration_s, offsets_hz=off,
                                   flip_deg=flip_deg) >= 0.5]
    return float(inside.max() - inside.min()) if inside.size else 0.0
