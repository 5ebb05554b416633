"""Density-matrix simulation of basis spectra with ideal pulses.

Hilbert-space simulation of each spin group (strong coupling, full
``I_i . I_j`` coupling between protons). Heteronuclei (31P, 14N) are J-coupled
to protons but untouched by 1H pulses; because heteronuclear coupling is weak
(only ``J I_z S_z``) and ``S_z`` commutes with everything the 1H pulses do,
each heteronuclear Zeeman state ``m`` is simulated exactly as a proton
sub-system whose shifts move by ``J m`` Hz, and the sub-spectra are averaged.

The free Hamiltonian is diagonalised once per spin group; delays are phase
factors in its eigenbasis, pulses are Kronecker products of one-spin
rotations, and the FID is summed analytically from the transition list
(frequency, complex amplitude) of the final density matrix.

Normalisation (docs/basis.md): one proton of an uncoupled singlet gives an FID
of amplitude 1 at t = 0 for every sequence (the echo top without relaxation),
so an NAA acetyl CH3 contributes 3. STEAM's intrinsic factor 1/2 is removed.
FIDs use the NIfTI-MRS sign convention (docs/conventions.md).
"""
from __future__ import annotations

import itertools
import sys
from functools import lru_cache

import numpy as np
from tqdm import tqdm

from .. import __version__, axes
from ..errors import InputError
from .basis import Basis
from .edited import EditedBasis
from .names import canonical_name
from .pulses import adiabatic_b1_hz, as_pulse, inversion_fwhm_hz, kron_rotations, spinor_rotations
from .spin_systems import HETERO_SPIN, SpinGroup, available_metabolites, spin_system

SEQUENCES = ("pulse-acquire", "press", "steam", "slaser", "mega-press", "hermes", "hercules")

#: Hadamard-encoded editing (MEGA-PRESS timing, four sub-experiments A-D): the ppm of the
#: editing pulse's bands in each sub-experiment (empty: an OFF pulse at ``edit_off_ppm``).
#: HERMES GABA/GSH: Chan et al., MRM 2016;76:11-19 and Saleh et al., NeuroImage 2016;142:576-582
#: (A both ON, B GABA ON, C GSH ON, D both OFF). HERCULES: Oeltzschner et al., NeuroImage
#: 2019;185:181-190 (A 4.58+1.9, B 4.18+1.9, C 4.58, D 4.18 ppm). Both at TE 80 ms.
HADAMARD_SEQUENCES = {
    "hermes": {"A": (1.9, 4.56), "B": (1.9,), "C": (4.56,), "D": ()},
    "hercules": {"A": (4.58, 1.9), "B": (4.18, 1.9), "C": (4.58,), "D": (4.18,)},
}
#: Hadamard combinations of the sub-experiments (A, B, C, D), the same for both sequences:
#: the GABA difference is (1.9 ppm ON) - (1.9 ppm OFF), the GSH one (4.56/4.58 ON) - (OFF).
HADAMARD_COMBINATIONS = {"sum": (1.0, 1.0, 1.0, 1.0), "diff_gaba": (1.0, 1.0, -1.0, -1.0),
                         "diff_gsh": (1.0, -1.0, 1.0, -1.0)}
#: the co-edited macromolecule at 3.0 ppm in the GABA difference (Osprey's "freeGauss" MM3co:
#: a Gaussian of 2 protons, FWHM 14 Hz, free amplitude): ppm, FWHM Hz, protons
MM3CO = (3.0, 14.0, 2.0)

#: Macromolecule and lipid components: name -> (ppm, FWHM ppm). Positions from the
#: consensus paper (Cudalbu et al., NMR Biomed 2021;34:e4393); widths are defaults.
MACROMOLECULES = {
    "MM0.92": (0.92, 0.10), "MM1.21": (1.21, 0.10), "MM1.39": (1.39, 0.10),
    "MM1.67": (1.67, 0.10), "MM2.04": (2.04, 0.10), "MM2.26": (2.26, 0.10),
    "MM2.56": (2.56, 0.10), "MM2.70": (2.70, 0.10), "MM2.99": (2.99, 0.10),
    "MM3.21": (3.21, 0.10), "MM3.62": (3.62, 0.10), "MM3.75": (3.75, 0.10),
    "MM3.86": (3.86, 0.10), "MM4.03": (4.03, 0.10),
    "Lip09": (0.89, 0.15), "Lip13": (1.30, 0.15), "Lip20": (2.04, 0.15),
}

#: Macromolecule and lipid components at the standard short-TE positions that LCModel
#: simulates by default for brain spectra (LCModel manual, S. Provencher: its default
#: CHSIMU list): name -> [(ppm, FWHM ppm, relative area), ...]. MM20 and Lip20 are
#: composites with fixed internal ratios, so they cannot take the shape of a multiplet.
MACROMOLECULES_STANDARD = {
    "MM09": [(0.91, 0.14, 3.0)], "MM12": [(1.21, 0.15, 2.0)], "MM14": [(1.43, 0.17, 2.0)],
    "MM17": [(1.67, 0.15, 2.0)],
    "MM20": [(2.08, 0.15, 1.33), (2.25, 0.20, 0.33), (1.95, 0.15, 0.33), (3.00, 0.20, 0.40)],
    "Lip09": [(0.89, 0.14, 3.0)], "Lip13": [(1.28, 0.15, 2.0)],
    "Lip20": [(2.04, 0.15, 1.33), (2.25, 0.15, 0.67), (2.80, 0.20, 0.87)],
}

#: The MM/lipid sets ``simulate_basis(macromolecules=...)`` accepts by name
MM_PRESETS = ("consensus", "standard")

_MM_KNOWN = ", ".join(dict.fromkeys([*MACROMOLECULES, *MACROMOLECULES_STANDARD]))


def _mm_component(name):
    """``(name, [(ppm, FWHM ppm, area), ...])`` of an MM/lipid component named one by one,
    or None. Lip09/Lip13/Lip20 exist in both sets: by name they are the consensus ones;
    ``macromolecules="standard"`` gives the standard set whole."""
    key = str(name).lower().replace(".", "").replace("_", "")
    for k, (ppm, fwhm) in MACROMOLECULES.items():
        if k.lower().replace(".", "") == key:
            return k, [(ppm, fwhm, 1.0)]
    for k, parts in MACROMOLECULES_STANDARD.items():
        if k.lower() == key:
            return k, parts
    return None


#: Default metabolite list (the library, brain profile order)
DEFAULT_METABOLITES = ("NAA", "NAAG", "Cr", "PCr", "GPC", "PCh", "Glu", "Gln", "GABA", "GSH",
                       "Tau", "mI", "sI", "Lac", "Asp", "Ala", "PE", "Asc", "Glc", "Gly",
                       "Cit", "Ace")


# -- spin operators -----------------------------------------------------------------------------

@lru_cache(maxsize=16)
def _operators(n: int):
    """Product-basis operators for ``n`` spins-1/2: Iz (n, N) diagonals, I+ (n, N, N), M (N,)."""
    N = 2 ** n
    states = (np.arange(N)[:, None] >> np.arange(n - 1, -1, -1)[None, :]) & 1  # bit 0 = up
    iz = 0.5 - states.T.astype(float)                                         # (n, N)
    iplus = np.zeros((n, N, N))
    for k in range(n):
        lower = np.nonzero(states[:, k] == 1)[0]           # spin k down
        iplus[k, lower - 2 ** (n - 1 - k), lower] = 1.0     # raise it
    m_total = iz.sum(axis=0)
    return iz, iplus, m_total


def _hamiltonian(shifts_hz: np.ndarray, j_hz: np.ndarray) -> np.ndarray:
    """Strong-coupling Hamiltonian (rad/s) in the product basis."""
    n = shifts_hz.size
    iz, iplus, _ = _operators(n)
    H = np.diag(shifts_hz @ iz).astype(complex)
    for i, j in zip(*np.triu_indices(n, 1)):
        if j_hz[i, j] != 0:
            flip = iplus[i] @ iplus[j].T
            H += j_hz[i, j] * (np.diag(iz[i] * iz[j]) + 0.5 * (flip + flip.T))
    return 2 * np.pi * H


def _rotation(n: int, angle_deg: float, phase_deg: float, mask: np.ndarray) -> np.ndarray:
    """Ideal rotation of the spins in ``mask`` (Kronecker product of one-spin rotations)."""
    th, ph = np.deg2rad(angle_deg), np.deg2rad(phase_deg)
    r = np.array([[np.cos(th / 2), -1j * np.sin(th / 2) * np.exp(-1j * ph)],
                  [-1j * np.sin(th / 2) * np.exp(1j * ph), np.cos(th / 2)]])
    R = np.ones((1, 1), complex)
    for k in range(n):
        R = np.kron(R, r if mask[k] else np.eye(2))
    return R


# -- sequences as event lists -------------------------------------------------------------------

def sequence_events(sequence: str, *, te_ms: float, te1_ms: float | None = None,
                    te2_ms: float | None = None, tm_ms: float | None = None,
                    edit_ppm: float | None = None, edit_bw_hz: float = 60.0,
                    refocusing=None, editing=None) -> list[tuple]:
    """The pulse sequence as events: ``("pulse", angle_deg, phase_deg, band)``,
    ``("delay", seconds)``, ``("filter", coherence_order)``.

    ``band`` is None for a hard pulse on all protons, else ``(ppm, full_width_hz)``
    for an ideal selective pulse. Timings (docs/basis.md):

    - pulse-acquire: 90, acquire (TE ignored).
    - press: 90 - TE1/2 - 180 - (TE1+TE2)/2 - 180 - TE2/2 - acquire; TE1 = TE2 = TE/2 by default.
    - steam: 90 - TE/2 - 90 - TM - 90 - TE/2 - acquire, stimulated-echo pathway (+1, 0, -1).
    - slaser: 90 - TE/8 - 180 - TE/4 - 180 - TE/4 - 180 - TE/4 - 180 - TE/8 - acquire.
    - mega-press: press with TE1 = min(TE/2, 15 ms) by default and ideal selective
      inversions at ``edit_ppm`` at t2 - TE/4 and t2 + TE/4, t2 = TE1 + TE2/2 being
      the second refocusing pulse (this spacing of TE/2 refocuses J evolution of
      the inverted partners completely in the ON condition). ``edit_ppm=None``
      gives no editing pulses.

    ``refocusing`` (press, slaser): ``(ShapedPulse, duration_s, carrier_ppm, n_positions
    [, b1_max_hz])`` replaces the ideal 180s by ``("shaped", pulse, duration_s, carrier_ppm,
    n_positions, b1_max_hz, coherence_after, stage)`` events: the pulse's one-spin
    rotations at slice positions, with crusher pathway selection (coherence order -1 after
    the excitation, then alternately +1 / -1). ``b1_max_hz`` (adiabatic pulses) sets the
    peak B1; None scales the pulse to 180 degrees on resonance. PRESS averages over
    positions after each pulse (``stage`` "single"); sLASER applies both pulses of a pair
    at the same position (``stage`` "open" keeps one density matrix per position, "close"
    averages them), one pair per direction. sLASER pulses are centred at TE/8, 3TE/8,
    5TE/8, 7TE/8 (as the ideal ones), so they must last at most TE/4.

    ``editing`` (mega-press only): ``(ShapedPulse, duration_s)`` replaces the ideal
    selective inversions by ``("edit", pulse, duration_s, edit_ppm)`` events: each
    proton gets the pulse's 180-degree one-spin rotation at its offset from
    ``edit_ppm`` (spatially uniform). Coherence order -1 is kept after the excitation
    (PRESS crushers) and orders +-1 after each editing pulse (crushers and phase
    cycling remove z-storage and multiple-quantum pathways). The pulse, centred on
    the editing times, must end after the neighbouring refocusing pulses / before the
    echo top: ``duration <= TE/2`` and ``duration <= (TE2 - TE1)/2``.
    """
    seq = sequence.lower()
    te = float(te_ms) * 1e-3
    if seq not in SEQUENCES:
        raise InputError(f"unknown sequence {sequence!r}; choose from {', '.join(SEQUENCES)}")
    if refocusing is not None and seq not in ("press", "slaser"):
        raise InputError("shaped refocusing pulses are implemented for press and slaser only")
    if refocusing is not None:
        refocusing = (tuple(refocusing) + (None,))[:5]
    if editing is not None and seq != "mega-press":
        raise InputError("shaped editing pulses are for mega-press only")
    if seq == "pulse-acquire":
        return [_EXCITE]
    if te <= 0:
        raise InputError(f"{sequence} needs a positive TE, got {te_ms} ms")
    if seq == "steam":
        tm = 0.0 if tm_ms is None else tm_ms * 1e-3
        return [_EXCITE, ("filter", 1), ("delay", te / 2), ("pulse", 90.0, 90.0, None),
                ("filter", 0), ("delay", tm), ("pulse", 90.0, 90.0, None), ("filter", -1),
                ("delay", te / 2)]
    if seq == "slaser":
        return _slaser_events(te, refocusing)
    te1, te2 = _press_split(seq, te, te_ms, te1_ms, te2_ms)
    if refocusing is not None:
        r1 = ("shaped", *refocusing, 1, "single")
        r2 = ("shaped", *refocusing, -1, "single")
        return [_EXCITE, ("filter", -1), ("delay", te1 / 2), r1, ("delay", (te1 + te2) / 2), r2,
                ("delay", te2 / 2)]
    if seq == "press" or edit_ppm is None:
        return [_EXCITE, ("delay", te1 / 2), _refocus(), ("delay", (te1 + te2) / 2), _refocus(),
                ("delay", te2 / 2)]
    if seq in HADAMARD_SEQUENCES:
        return _mega_events(te, te1, te2, tuple(np.atleast_1d(edit_ppm)), edit_bw_hz, None)
    return _mega_events(te, te1, te2, edit_ppm, edit_bw_hz, editing)


_EXCITE = ("pulse", 90.0, 90.0, None)          # 90 about y: Iz -> Ix


def _refocus():
    """An ideal hard 180 about x."""
    return ("pulse", 180.0, 0.0, None)


def _press_split(seq, te, te_ms, te1_ms, te2_ms):
    """TE1 and TE2 (s) of PRESS / MEGA-PRESS: the defaults of sequence_events or the given ones."""
    if te1_ms is None and te2_ms is None:
        te1 = te / 2 if seq == "press" else min(te / 2, 0.015)
        te2 = te - te1
    else:
        te1 = te - te2_ms * 1e-3 if te1_ms is None else te1_ms * 1e-3
        te2 = te - te1 if te2_ms is None else te2_ms * 1e-3
    if te1 <= 0 or te2 <= 0 or abs(te1 + te2 - te) > 1e-6:
        raise InputError(f"TE1 + TE2 must equal TE with both positive "
                         f"(TE {te_ms}, TE1 {te1 * 1e3:g}, TE2 {te2 * 1e3:g} ms)")
    return te1, te2


def _mega_events(te, te1, te2, edit_ppm, edit_bw_hz, editing):
    """MEGA-PRESS: PRESS with two editing inversions at t2 -+ TE/4 (ideal or shaped)."""
    if te1 > te2 + 1e-9:
        raise InputError("mega-press needs TE1 <= TE2 to place the editing pulses")
    t2 = te1 + te2 / 2
    e1, e2 = t2 - te / 4, t2 + te / 4
    # several ppm (HERMES/HERCULES): a multi-band pulse, i.e. simultaneous ideal inversions of
    # disjoint spin sets, which commute, so they are applied one after the other at one instant
    bands = [("pulse", 180.0, 0.0, (float(p), float(edit_bw_hz))) for p in np.atleast_1d(edit_ppm)]
    band = bands[0] if len(bands) == 1 else ("bands", bands)
    head = [_EXCITE]
    if editing is not None:
        pulse, dur = editing
        room = min(e1 - te1 / 2, t2 - e1, e2 - t2, te - e2)   # centre to nearest event
        if dur <= 0 or dur / 2 > room + 1e-9:
            raise InputError(
                f"editing pulse of {dur * 1e3:g} ms does not fit the MEGA-PRESS timing "
                f"(TE {te * 1e3:g}, TE1 {te1 * 1e3:g}, TE2 {te2 * 1e3:g} ms): it is centred "
                f"{(e1 - te1 / 2) * 1e3:g} ms after the 1st refocusing pulse, "
                f"{(t2 - e1) * 1e3:g} ms from the 2nd and {(te - e2) * 1e3:g} ms before the "
                f"echo, so at most {2 * room * 1e3:g} ms; shorten --editing-ms or change "
                f"TE/TE1 (needs duration <= TE/2 and <= (TE2 - TE1)/2)")
        band = ("edit", pulse, float(dur), float(edit_ppm))
        head = [_EXCITE, ("filter", -1)]
    events = head + [("delay", te1 / 2), _refocus(), ("delay", e1 - te1 / 2), band,
                     ("delay", t2 - e1), _refocus(), ("delay", e2 - t2), band, ("delay", te - e2)]
    return [b for ev in events for b in (ev[1] if ev[0] == "bands" else [ev])]


def _slaser_events(te, refocusing):
    """sLASER: two pairs of refocusing pulses (ideal, or shaped adiabatic), evenly spaced."""
    if refocusing is None:
        ev = [_EXCITE, ("delay", te / 8)]
        for k in range(4):
            ev += [_refocus(), ("delay", te / 4 if k < 3 else te / 8)]
        return ev
    dur = float(refocusing[1])
    if dur <= 0 or dur > te / 4 + 1e-9:
        raise InputError(
            f"refocusing pulse of {dur * 1e3:g} ms does not fit sLASER at TE {te * 1e3:g} ms: "
            f"the four pulses are centred TE/4 = {te / 4 * 1e3:g} ms apart (at TE/8, 3TE/8, "
            f"5TE/8, 7TE/8), so each may last at most TE/4 = {te / 4 * 1e3:g} ms; shorten "
            f"--refocusing-ms or lengthen --te (needs TE >= {4 * dur * 1e3:g} ms)")
    ev = [_EXCITE, ("filter", -1), ("delay", te / 8)]
    for k in range(4):
        ev += [("shaped", *refocusing, 1 if k % 2 == 0 else -1,
                "open" if k % 2 == 0 else "close"),
               ("delay", te / 4 if k < 3 else te / 8)]
    return ev


# -- the simulator ------------------------------------------------------------------------------

def simulate_group(group: SpinGroup, events, *, field_mhz: float,
                   centre_ppm: float = axes.WATER_PPM, hetero: str = "couple"):
    """Transition list of one spin group after ``events``.

    Returns
    -------
    freqs_hz : (n_lines,) float ndarray
        Line frequencies relative to ``centre_ppm`` (positive = higher ppm).
    amps : (n_lines,) complex ndarray
        Complex amplitudes in our FID convention, per-proton normalised and
        multiplied by ``group.scale``: ``fid(t) = sum(amps * exp(-2j pi freqs t))``.
    """
    prot = group.proton_mask
    n = int(prot.sum())
    if n == 0:
        return np.zeros(0), np.zeros(0, complex)
    if n > 10:
        raise InputError(f"spin group {group.name!r} has {n} protons; at most 10 are supported")
    shifts_hz = (group.shifts_ppm[prot] - centre_ppm) * field_mhz
    jpp = group.j_hz[np.ix_(prot, prot)]
    het = np.nonzero(~prot)[0]
    if hetero == "drop" or het.size == 0:
        states = [((), 1.0)]
    elif hetero == "couple":
        levels = [np.arange(-HETERO_SPIN[group.nuclei[k]], HETERO_SPIN[group.nuclei[k]] + 0.5)
                  for k in het]
        combos = list(itertools.product(*levels))
        states = [(c, 1.0 / len(combos)) for c in combos]
    else:
        raise InputError(f"hetero must be 'couple' or 'drop', got {hetero!r}")
    iz, iplus, m_total = _operators(n)
    fplus = iplus.sum(axis=0)
    coherence = m_total[:, None] - m_total[None, :]
    all_spins = np.ones(n, bool)
    freqs, amps = [], []
    for m_het, weight in states:
        offs = shifts_hz.copy()
        for k, m in zip(het, m_het):
            offs = offs + group.j_hz[prot, k] * m
        E, V = np.linalg.eigh(_hamiltonian(offs, jpp))
        rho = np.diag(m_total).astype(complex)   # equilibrium Fz
        for ev in events:
            if ev[0] == "delay":
                if ev[1] > 0:
                    U = (V * np.exp(-1j * E * ev[1])) @ V.conj().T
                    rho = U @ rho @ U.conj().T
            elif ev[0] == "pulse":
                _, angle, phase, band = ev
                if band is None:
                    mask = all_spins
                else:
                    mask = np.abs(group.shifts_ppm[prot] - band[0]) * field_mhz <= band[1] / 2
                    if not mask.any():
                        continue
                R = _rotation(n, angle, phase, mask)
                rho = R @ rho @ R.conj().T
            elif ev[0] == "filter":
                rho = np.where(np.isclose(coherence, ev[1]), rho, 0)
            elif ev[0] == "shaped":
                rho = _shaped_refocus(rho, ev, group.shifts_ppm[prot], field_mhz, coherence)
            elif ev[0] == "edit":
                rho = _shaped_edit(rho, ev, group.shifts_ppm[prot], field_mhz, coherence)
        if rho.ndim != 2:
            raise ValueError("unclosed shaped sLASER pulse pair")
        rho_e = V.conj().T @ rho @ V
        det_e = V.conj().T @ fplus @ V
        a = rho_e * det_e.T                       # signal = sum a_rs exp(-i (E_r - E_s) t)
        w = E[:, None] - E[None, :]
        keep = np.abs(a) > 1e-12
        # our convention is the complex conjugate of <F+>: fid = sum conj(a) exp(+i w t)
        freqs.append(-w[keep] / (2 * np.pi))
        # Tr(Fx F+) = n 2**(n-2): scale so that each proton gives 1 at t = 0
        amps.append(2.0 ** (2 - n) * weight * group.scale * np.conj(a[keep]))
    return np.concatenate(freqs), np.concatenate(amps)


def _kron_sandwich(r, rho):
    """``R rho R^H`` per position for ``R`` the Kronecker product of one-spin rotations
    ``r`` (n_pos, n, 2, 2), applied one spin at a time (4 n N^2 instead of 2 N^3 work)."""
    n_pos, n = r.shape[:2]
    N = 2 ** n
    out = np.asarray(rho, complex).reshape((n_pos,) + (2,) * (2 * n))
    for k in range(n):
        out = np.moveaxis(np.einsum("pij,pj...->pi...", r[:, k],
                                    np.moveaxis(out, 1 + k, 1)), 1, 1 + k)
        out = np.moveaxis(np.einsum("pij,pj...->pi...", r[:, k].conj(),
                                    np.moveaxis(out, 1 + n + k, 1)), 1, 1 + n + k)
    return out.reshape(n_pos, N, N)


def _shaped_refocus(rho, ev, shifts_ppm, field_mhz, coherence):
    """Crusher-selected ``R(x) rho R(x)^H`` at slice positions x.

    ``stage`` "single": averaged over x at once (PRESS: one pulse per direction).
    "open": returns one density matrix per position (n_pos, N, N), which the following
    delay propagates as a stack; "close": the second pulse of the pair at the same
    positions, then the average (sLASER: one adiabatic pair per direction).
    """
    _, pulse, duration_s, carrier_ppm, n_pos, b1_hz, p_after, stage = ev
    span = 3.0                                            # +-1.5 slice thicknesses
    x = -span / 2 + (np.arange(n_pos) + 0.5) * span / n_pos
    bw = pulse.bandwidth_hz(duration_s)
    offsets = (shifts_ppm[None, :] - carrier_ppm) * field_mhz + x[:, None] * bw
    r = spinor_rotations(pulse, duration_s=duration_s, flip_deg=180.0, offsets_hz=offsets,
                         b1_max_hz=b1_hz)
    if (rho.ndim == 3) != (stage == "close"):
        raise ValueError("shaped sLASER pulses must come in open/close pairs")
    out = _kron_sandwich(r, rho if rho.ndim == 3 else np.broadcast_to(rho, (n_pos,) + rho.shape))
    out = np.where(np.isclose(coherence, p_after), out, 0)
    return out if stage == "open" else out.sum(axis=0) * (span / n_pos)


def _shaped_edit(rho, ev, shifts_ppm, field_mhz, coherence):
    """Shaped editing pulse: per-spin 180-degree rotations at each offset from the editing
    frequency (no slice selection), then coherence orders +-1 kept."""
    _, pulse, duration_s, edit_ppm = ev
    r = spinor_rotations(pulse, duration_s=duration_s, flip_deg=180.0,
                         offsets_hz=(shifts_ppm - edit_ppm) * field_mhz)
    R = kron_rotations(r)
    out = R @ rho @ R.conj().T
    return np.where(np.isclose(np.abs(coherence), 1), out, 0)


def lines_to_fid(freqs_hz, amps, *, n_points: int, dwelltime_s: float,
                 lw_hz: float = 0.0, block: int = 64) -> np.ndarray:
    """``sum(amps * exp(-2j pi freqs t)) * exp(-pi lw t)`` on the acquisition grid.

    Evaluated blockwise: ``t = (m B + j) dt`` factorises the exponential, so the sum
    is one matrix product ``(amps * P).T @ E`` with ``P`` (lines, n/B) and ``E``
    (lines, B): about ``2 sqrt(n)`` complex exponentials per line instead of ``n``.
    """
    freqs_hz = np.asarray(freqs_hz, float)
    amps = np.asarray(amps, complex)
    t = axes.time_axis(n_points, dwelltime_s)
    n_blocks = -(-n_points // block)
    w = -2j * np.pi * freqs_hz[:, None] * dwelltime_s
    E = np.exp(w * np.arange(block)[None, :])                      # (lines, B)
    P = np.exp(w * (block * np.arange(n_blocks))[None, :])         # (lines, M)
    fid = ((P * amps[:, None]).T @ E).reshape(-1)[:n_points]
    return fid * np.exp(-np.pi * lw_hz * t)


def _global_phase(events, field_mhz, centre_ppm) -> complex:
    """Echo-top amplitude of one on-resonance proton (hard pulses only)."""
    ref = SpinGroup(np.array([centre_ppm]), ("1H",), np.zeros((1, 1)))
    hard = [("pulse", 180.0, 0.0, None) if e[0] == "shaped" else e for e in events
            if not (e[0] == "pulse" and e[3] is not None) and e[0] != "edit"]
    _, a = simulate_group(ref, hard, field_mhz=field_mhz, centre_ppm=centre_ppm)
    return complex(a.sum())


def simulate_metabolite(name: str, events, *, field_mhz: float, n_points: int,
                        dwelltime_s: float, lw_hz: float = 0.0,
                        centre_ppm: float = axes.WATER_PPM, hetero: str = "couple",
                        spin_library=None, variant: str | None = None) -> np.ndarray:
    """FID of one metabolite of the spin-system library (before the global phase)."""
    fs, As = [], []
    for g in spin_system(name, spin_library, variant=variant):
        f, a = simulate_group(g, events, field_mhz=field_mhz, centre_ppm=centre_ppm,
                              hetero=hetero)
        fs.append(f)
        As.append(a)
    return lines_to_fid(np.concatenate(fs), np.concatenate(As), n_points=n_points,
                        dwelltime_s=dwelltime_s, lw_hz=lw_hz)


def gaussian_fid(ppm: float, fwhm_ppm: float, *, field_mhz: float, n_points: int,
                 dwelltime_s: float, centre_ppm: float = axes.WATER_PPM,
                 amplitude: float = 1.0) -> np.ndarray:
    """A Gaussian line (FWHM in ppm) with FID amplitude ``amplitude`` at t = 0."""
    t = axes.time_axis(n_points, dwelltime_s)
    fwhm_hz = fwhm_ppm * field_mhz
    env = np.exp(-(np.pi * fwhm_hz * t) ** 2 / (4 * np.log(2)))
    return amplitude * env * np.exp(-2j * np.pi * (ppm - centre_ppm) * field_mhz * t)


def _progress(items, enabled: bool, desc: str):
    if not enabled:
        return items
    return tqdm(items, desc=desc, unit="metab", file=sys.stderr, leave=False)


def simulate_basis(sequence: str, *, te_ms: float, field_mhz: float, n_points: int,
                   bandwidth_hz: float, metabolites=None, te1_ms: float | None = None,
                   te2_ms: float | None = None, tm_ms: float | None = None,
                   edit_ppm: float | None = None, edit_off_ppm: float = 7.5,
                   edit_bw_hz: float = 60.0, edit_state: str = "diff", lw_hz: float = 0.0,
                   macromolecules=None, reference_ppm: float | None = None,
                   reference_protons: float = 1.0, hetero: str = "couple",
                   centre_ppm: float = axes.WATER_PPM, progress: bool = False,
                   spin_library=None, spin_variants=None, refocusing_pulse=None,
                   refocusing_ms: float = 5.2, pulse_carrier_ppm: float = 3.0,
                   n_positions: int = 41, refocusing_b1_hz: float | None = None,
                   editing_pulse=None, editing_ms: float = 14.0) -> Basis:
    """Simulate a basis set (ideal pulses unless shaped ones are given).

    Parameters
    ----------
    sequence : {'pulse-acquire', 'press', 'steam', 'slaser', 'mega-press'}
    te_ms, field_mhz, n_points, bandwidth_hz : acquisition (TE in ms, MHz, points, Hz).
    metabolites : list of str, optional
        Names from the spin-system library (default: all of DEFAULT_METABOLITES)
        and/or macromolecule/lipid names from MACROMOLECULES.
    te1_ms, te2_ms : PRESS / MEGA-PRESS echo split; tm_ms : STEAM mixing time.
    edit_ppm, edit_off_ppm, edit_bw_hz : MEGA-PRESS editing pulse (ON at ``edit_ppm``,
        OFF at ``edit_off_ppm``), ideal selective inversion of protons within
        ``edit_bw_hz`` (full width).
    edit_state : {'on', 'off', 'diff'}; 'diff' is ON - OFF.
    lw_hz : Lorentzian line broadening (FWHM, Hz) applied to the metabolites.
    macromolecules : list of str, True, "consensus" or "standard", optional
        Add Gaussian MM/lipid components: True or "consensus" adds the 17 single
        Gaussians of MACROMOLECULES (consensus positions, Cudalbu 2021); "standard"
        adds the 8 components of MACROMOLECULES_STANDARD (LCModel's default set: MM09,
        MM12, MM14, MM17, MM20, Lip09, Lip13, Lip20, with composite MM20/Lip20). The
        standard set has fewer, broader components and is the better default for
        short-TE in-vivo fits (docs/fitting.md). A list picks components of either
        by name (Lip09/Lip13/Lip20, in both sets, are then the consensus ones).
    reference_ppm : float, optional
        Add a singlet of ``reference_protons`` at this shift (e.g. 0.0) to every
        metabolite FID, as in LCModel-style basis sets.
    hetero : {'couple', 'drop'}
        Keep heteronuclear (31P/14N) couplings (exact) or ignore them.
    spin_variants : dict, optional
        ``{metabolite: variant}``: use a cited alternative table entry instead of the
        default Govindaraju/Govind one, e.g. ``{"GSH": "tkac2008", "Asc": "terpstra2006"}``
        (``mrsquant.basis.spin_systems.variants(name)`` lists them; docs/basis.md).
    refocusing_pulse : str, Path or ShapedPulse, optional
        PRESS or sLASER: shaped refocusing pulses (Siemens ``.pta``, or ``.RF`` such as
        an adiabatic full passage) of ``refocusing_ms`` with the carrier at
        ``pulse_carrier_ppm``, averaged over ``n_positions`` slice positions (+-1.5
        slice thicknesses) in each refocusing direction; amplitudes stay relative to
        ideal pulses (a perfect rectangular profile gives 1 per proton). sLASER: two
        identical pulses per direction at the same position (an adiabatic pair), centred
        at TE/8, 3TE/8, 5TE/8, 7TE/8, so ``refocusing_ms <= TE/4``. See
        mrsquant.basis.pulses and docs/basis.md.
    refocusing_b1_hz : float, optional
        Peak B1 (Hz) of an adiabatic refocusing pulse (``.RF`` with ``MODULATION
        adiabatic``); default :func:`mrsquant.basis.pulses.adiabatic_b1_hz` (lowest B1 with
        ``|beta|^2 >= 0.99`` over the central half of the band; 844 Hz for the HS2 R15
        pulse at 5.2 ms). Giving it for a non-adiabatic pulse sets its peak B1 too.
    editing_pulse : str, Path or ShapedPulse, optional
        MEGA-PRESS only: shaped editing pulses (Siemens ``.pta``) of ``editing_ms``
        (default 14 ms, which fits the default TE 68 / TE1 15 timing) instead of ideal
        selective inversions; ``edit_bw_hz`` is then unused (the bandwidth follows from
        the pulse and its duration). Each proton gets the pulse's rotation at its offset
        from the ON / OFF frequency; J is neglected during the pulse; the pulse must fit
        the timing (docs/basis.md).

    Returns
    -------
    Basis
        FIDs ``(n_metab, n_points)`` normalised per proton (docs/basis.md): one
        molecule gives an FID of ``n_protons`` at t = 0 for singlets;
        ``provenance['n_protons']`` lists the counts, ``scaling`` is 1.

    Examples
    --------
    >>> b = simulate_basis("press", te_ms=30, te1_ms=11, te2_ms=19, field_mhz=123.2,
    ...                    n_points=1024, bandwidth_hz=4000, metabolites=["Cr"])
    >>> float(round(abs(b.fids[0, 0]), 3))   # CH3 + CH2 + NH protons of creatine
    6.0
    """
    seq = sequence.lower()
    if n_points < 16 or bandwidth_hz <= 0 or field_mhz <= 0:
        raise InputError("n_points must be >= 16 and bandwidth_hz, field_mhz positive")
    dwell = 1.0 / float(bandwidth_hz)
    if seq == "mega-press" and edit_ppm is None:
        raise InputError("mega-press needs edit_ppm (e.g. 1.9 for GABA, 4.56 for GSH)")
    hadamard = seq in HADAMARD_SEQUENCES
    states = (*HADAMARD_SEQUENCES[seq], *HADAMARD_COMBINATIONS) if hadamard else ("on", "off", "diff")
    if edit_state not in states:
        raise InputError(f"edit_state must be one of {', '.join(states)} for {seq}, got {edit_state!r}")
    kw = dict(te_ms=te_ms, te1_ms=te1_ms, te2_ms=te2_ms, tm_ms=tm_ms, edit_bw_hz=edit_bw_hz)
    b1_used = _shaped_refocusing(kw, seq, refocusing_pulse, refocusing_ms, pulse_carrier_ppm,
                                 n_positions, refocusing_b1_hz)
    edit_info = _shaped_editing(kw, seq, editing_pulse, editing_ms)
    if seq == "mega-press":
        variants = {"on": sequence_events(seq, edit_ppm=edit_ppm, **kw),
                    "off": sequence_events(seq, edit_ppm=edit_off_ppm, **kw)}
        signs = {"on": {"on": 1.0}, "off": {"off": 1.0},
                 "diff": {"on": 1.0, "off": -1.0}}[edit_state]
    elif hadamard:
        variants, signs = _hadamard_variants(seq, edit_state, edit_off_ppm, kw)
    else:
        variants = {"": sequence_events(seq, **kw)}
        signs = {"": 1.0}
    phase = {k: _global_phase(ev, field_mhz, centre_ppm) for k, ev in variants.items()}
    names, mm = _components(metabolites, macromolecules, spin_library)
    chosen = {canonical_name(k): v for k, v in (spin_variants or {}).items()}
    unused = set(chosen) - {canonical_name(n) for n in names}
    if unused:
        raise InputError(f"spin_variants for metabolites not simulated: "
                         f"{', '.join(sorted(unused))}")
    fids, out_names, protons = [], [], []
    t = axes.time_axis(n_points, dwell)
    for name in _progress(names, progress, f"simulating {seq}"):
        fid = np.zeros(n_points, complex)
        variant = chosen.get(canonical_name(name))
        for key, sign in signs.items():
            fid += sign * simulate_metabolite(
                name, variants[key], field_mhz=field_mhz, n_points=n_points, dwelltime_s=dwell,
                lw_hz=lw_hz, centre_ppm=centre_ppm, hetero=hetero,
                spin_library=spin_library, variant=variant) / phase[key]
        if reference_ppm is not None:
            fid += reference_protons * np.exp(
                -2j * np.pi * (reference_ppm - centre_ppm) * field_mhz * t - np.pi * lw_hz * t)
        fids.append(fid)
        out_names.append(name)
        protons.append(sum(g.n_protons for g in spin_system(name, spin_library, variant=variant)))
    for name, parts in mm.items():
        fids.append(sum(gaussian_fid(ppm, fwhm, amplitude=area, field_mhz=field_mhz, n_points=n_points,
                                     dwelltime_s=dwell, centre_ppm=centre_ppm)
                        for ppm, fwhm, area in parts))
        out_names.append(name)
        protons.append(float(sum(area for _, _, area in parts)))
    if not fids:
        raise InputError("nothing to simulate: empty metabolite list")
    mega = seq == "mega-press"
    prov = _provenance(seq, te_ms=te_ms, te1_ms=te1_ms, te2_ms=te2_ms, tm_ms=tm_ms, edit_ppm=edit_ppm,
                       edit_off_ppm=edit_off_ppm, edit_bw_hz=edit_bw_hz, edit_info=edit_info,
                       edit_state=edit_state, lw_hz=lw_hz, reference_ppm=reference_ppm, hetero=hetero,
                       chosen=chosen, refocusing_pulse=refocusing_pulse, refocusing_ms=refocusing_ms,
                       pulse_carrier_ppm=pulse_carrier_ppm, n_positions=n_positions, b1_used=b1_used,
                       editing_pulse=editing_pulse, n_protons=dict(zip(out_names, protons)))
    return Basis(fids=np.array(fids), names=tuple(out_names), dwelltime_s=dwell,
                 spectrometer_frequency_mhz=float(field_mhz),
                 te_ms=None if seq == "pulse-acquire" else float(te_ms),
                 sequence=seq if not (mega or hadamard) else f"{seq}-{edit_state}",
                 centre_ppm=centre_ppm, provenance=prov)


def _hadamard_variants(seq, edit_state, edit_off_ppm, kw):
    """Event lists of the HERMES/HERCULES sub-experiments and the signs giving ``edit_state``
    (one sub-experiment A-D or a combination of HADAMARD_COMBINATIONS)."""
    subs = HADAMARD_SEQUENCES[seq]
    variants = {k: sequence_events(seq, edit_ppm=bands or (edit_off_ppm,), **kw)
                for k, bands in subs.items()}
    if edit_state in subs:
        return {edit_state: variants[edit_state]}, {edit_state: 1.0}
    return variants, dict(zip(subs, HADAMARD_COMBINATIONS[edit_state]))


def simulate_edited_basis(sequence: str = "hermes", *, te_ms: float = 80.0, field_mhz: float,
                          n_points: int, bandwidth_hz: float, metabolites=None,
                          mm3co: bool = True, progress: bool = False, **options):
    """HERMES / HERCULES basis: one :class:`Basis` per Hadamard combination.

    Each sub-experiment A-D is simulated once (:func:`simulate_basis` with ``edit_state``
    "A".."D"; ideal editing inversions of ``edit_bw_hz`` full width, MEGA-PRESS timing with
    TE1 = 15 ms) and combined with :data:`HADAMARD_COMBINATIONS`; ``mm3co`` adds the
    co-edited 3.0 ppm macromolecule :data:`MM3CO` to the GABA difference (zero in the other
    combinations), as Osprey's "freeGauss" model (docs/editing.md). Every combination holds the
    same names in the same order, so an amplitude means the same amount in each.

    Returns
    -------
    EditedBasis
        ``bases`` {"sum", "diff_gaba", "diff_gsh"}: Basis, ``weights`` the combinations.
    """

    seq = sequence.lower()
    if seq not in HADAMARD_SEQUENCES:
        raise InputError(f"edited basis sequences are {', '.join(HADAMARD_SEQUENCES)}, got {sequence!r}")
    subs = [simulate_basis(seq, te_ms=te_ms, field_mhz=field_mhz, n_points=n_points,
                           bandwidth_hz=bandwidth_hz, metabolites=metabolites, edit_state=k,
                           progress=progress, **options) for k in HADAMARD_SEQUENCES[seq]]
    fids = np.stack([b.fids for b in subs])                     # (4, M, P)
    names = subs[0].names
    bases = {}
    for combo, w in HADAMARD_COMBINATIONS.items():
        f = np.tensordot(np.asarray(w), fids, axes=(0, 0))
        nm = names
        if mm3co:
            g = gaussian_fid(MM3CO[0], MM3CO[1] / field_mhz, field_mhz=field_mhz, n_points=n_points,
                             dwelltime_s=1.0 / bandwidth_hz, amplitude=MM3CO[2],
                             centre_ppm=subs[0].centre_ppm)
            f = np.vstack([f, (g if combo == "diff_gaba" else 0 * g)[None, :]])
            nm = names + ("MM3co",)
        prov = dict(subs[0].provenance, edit_state=combo, combination=dict(zip(HADAMARD_SEQUENCES[seq], w)),
                    edit_bands_ppm={k: list(v) for k, v in HADAMARD_SEQUENCES[seq].items()},
                    mm3co=({"ppm": MM3CO[0], "fwhm_hz": MM3CO[1], "protons": MM3CO[2],
                            "model": "Osprey freeGauss"} if mm3co else None))
        bases[combo] = subs[0].replace(fids=f, names=nm, sequence=f"{seq}-{combo}", provenance=prov,
                                       scaling=None)
    return EditedBasis(bases=bases, weights=dict(HADAMARD_COMBINATIONS), sequence=seq)


def _provenance(seq, *, te_ms, te1_ms, te2_ms, tm_ms, edit_ppm, edit_off_ppm, edit_bw_hz, edit_info,
                edit_state, lw_hz, reference_ppm, hetero, chosen, refocusing_pulse, refocusing_ms,
                pulse_carrier_ppm, n_positions, b1_used, editing_pulse, n_protons):
    """The basis' provenance record: simulator, sequence timing, pulses, normalisation."""
    pulses = "ideal pulses" if refocusing_pulse is None and editing_pulse is None else "shaped pulses"
    mega = seq in ("mega-press", *HADAMARD_SEQUENCES)
    prov = {"simulator": f"mrsquant {__version__} mrsquant.basis.simulate ({pulses})",
            "sequence": seq, "te_ms": te_ms, "te1_ms": te1_ms, "te2_ms": te2_ms, "tm_ms": tm_ms,
            "edit_ppm": edit_ppm, "edit_off_ppm": edit_off_ppm if mega else None,
            "edit_bw_hz": edit_bw_hz if mega and edit_info is None else None,
            "editing_pulse": edit_info,
            "edit_state": edit_state if mega else None,
            "lw_hz": lw_hz, "reference_ppm": reference_ppm, "hetero": hetero,
            "spin_variants": chosen or None,
            "refocusing_pulse": None if refocusing_pulse is None else {
                "pulse": str(getattr(refocusing_pulse, "name", refocusing_pulse)),
                "duration_ms": refocusing_ms, "carrier_ppm": pulse_carrier_ppm,
                "n_positions": n_positions,
                "b1_max_hz": None if b1_used is None else round(float(b1_used), 1)},
            "normalisation": "FID(t=0) of one uncoupled proton = 1",
            "n_protons": n_protons}
    return prov


def _shaped_refocusing(kw, seq, refocusing_pulse, refocusing_ms, carrier_ppm, n_positions,
                       b1_hz):
    """Put the shaped refocusing pulse into the sequence options ``kw``; the peak B1 used."""
    if refocusing_pulse is None:
        return None
    if seq not in ("press", "slaser"):
        raise InputError("refocusing_pulse is for press and slaser only")
    pulse = as_pulse(refocusing_pulse)
    if refocusing_ms <= 0 or int(n_positions) < 1:
        raise InputError("refocusing_ms must be positive and n_positions >= 1")
    b1_used = b1_hz
    if b1_used is None and pulse.adiabatic:
        b1_used = adiabatic_b1_hz(pulse, duration_s=refocusing_ms * 1e-3)
    if b1_used is not None and b1_used <= 0:
        raise InputError(f"refocusing_b1_hz must be positive, got {b1_used}")
    kw["refocusing"] = (pulse, refocusing_ms * 1e-3, carrier_ppm, int(n_positions),
                        None if b1_used is None else float(b1_used))
    return b1_used


def _shaped_editing(kw, seq, editing_pulse, editing_ms):
    """Put the shaped MEGA editing pulse into ``kw``; its provenance entry (None if ideal)."""
    if editing_pulse is None:
        return None
    if seq != "mega-press":
        raise InputError("editing_pulse is for mega-press only")
    epulse = as_pulse(editing_pulse)
    kw["editing"] = (epulse, float(editing_ms) * 1e-3)
    return {"pulse": str(getattr(editing_pulse, "name", editing_pulse)),
            "duration_ms": float(editing_ms),
            "inversion_fwhm_hz": round(inversion_fwhm_hz(
                epulse, duration_s=float(editing_ms) * 1e-3), 2)}


def _components(metabolites, macromolecules, spin_library):
    """Metabolite names to simulate and MM/lipid Gaussians ``{name: [(ppm, fwhm, area)]}``."""
    lib = set(available_metabolites(spin_library))
    if macromolecules is True or macromolecules == "consensus":
        mm = {k: [(*v, 1.0)] for k, v in MACROMOLECULES.items()}
    elif macromolecules == "standard":
        mm = dict(MACROMOLECULES_STANDARD)
    elif isinstance(macromolecules, str):
        raise InputError(f"macromolecules={macromolecules!r}: use one of {', '.join(MM_PRESETS)} "
                         f"or a list of component names")
    else:
        mm = {}
        for n in macromolecules or []:
            found = _mm_component(n)
            if found is None:
                raise InputError(f"no MM/lipid component {n!r}; known: {_MM_KNOWN}")
            mm.setdefault(*found)
    names = list(DEFAULT_METABOLITES if metabolites is None else metabolites)
    for n in list(names):
        found = _mm_component(n)
        if found is not None:
            names.remove(n)
            mm.setdefault(*found)
        elif n not in lib and canonical_name(n) not in lib:
            raise InputError(f"no spin system for {n!r}; known: {', '.join(sorted(lib))}, "
                             f"and MM/lipid components {_MM_KNOWN}")
    return names, mm


def basis_entry_from_spectra(spectra, *, name: str = "Mac", n_points: int | None = None,
                             dwelltime_s: float | None = None) -> Basis:
    """A measured spectrum (e.g. a macromolecule FID from ``mrsquant.load``) as a one-entry Basis.

    Leading dimensions are averaged; the FID is resampled to ``dwelltime_s`` /
    ``n_points`` when given.
    """
    fid = np.asarray(spectra.data).reshape(-1, spectra.n_points).mean(axis=0)
    b = Basis(fids=fid[None, :], names=(name,), dwelltime_s=spectra.dwelltime_s,
              spectrometer_frequency_mhz=spectra.spectrometer_frequency_mhz,
              te_ms=getattr(spectra, "te_ms", None), sequence="measured",
              centre_ppm=getattr(spectra, "centre_ppm", axes.WATER_PPM),
              provenance={"source": "measured spectrum"})
    if dwelltime_s is not None or n_points is not None:
        b = b.resample(dwelltime_s or b.dwelltime_s, n_points or b.n_points)
    return b
