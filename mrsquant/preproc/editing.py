"""Spectral editing (MEGA-PRESS; HERMES-ready): conditions on an ``edit`` axis.

Data model: edit conditions live on the NIfTI-MRS ``edit`` axis, any number of
them (2 for MEGA-PRESS, 4 for HERMES/HERCULES); transients stay on ``dyn``.
After :func:`mrsquant.preproc.preprocess` the ``edit`` axis holds the averaged,
mutually aligned sub-spectra in the order OFF, ON for MEGA-PRESS (or the input
order for more conditions). Combinations are weight vectors over that axis:
MEGA ``diff = ON - OFF`` (not halved), ``sum = ON + OFF``; a HERMES GABA
combination would be e.g. ``{"gaba": [-1, 1, 1, -1]}`` for conditions (A, B, C, D).
"""
from __future__ import annotations

import numpy as np

from .. import axes
from ..errors import InputError
from ..spectra import Spectra
from ._dims import axis_of
from .align import ALIGN_PPM_RANGE, _grid_start, align_transients, register, shift_phase, shift_phase_fid
from .phase import find_reference_offset, zero_order_phase
from .record import add_processing

#: window for aligning sub-spectra to each other: the Cho singlet, untouched by a 1.9 ppm editing pulse
SUBSPECTRA_PPM_RANGE = (3.15, 3.35)
#: default combinations for two conditions ordered (OFF, ON)
MEGA_COMBINATIONS = {"diff": (-1.0, 1.0), "sum": (1.0, 1.0)}
#: where ON - OFF has positive absorption (J-refocused partners of the inverted spins) for GABA
#: (1.9 ppm) and GSH (4.56 ppm) editing; clear of the NAA singlet a real pulse partly saturates
EDITED_PPM_RANGE = (2.25, 4.0)
#: |ON - OFF integral| / its noise SD above which the ON/OFF call is ``confident``
Z_CONFIDENT = 4.0
#: Hadamard differences over the sub-experiments (A, B, C, D) of HERMES and HERCULES: the
#: differences of ``mrsquant.basis.simulate.HADAMARD_COMBINATIONS`` (preproc cannot import
#: basis; a test keeps the two equal). A sub-experiment's sign in a difference says whether
#: that difference's editing band is ON (+1) in it.
HADAMARD_DIFFERENCES = {"diff_gaba": (1.0, 1.0, -1.0, -1.0), "diff_gsh": (1.0, -1.0, 1.0, -1.0)}
#: reporter windows: per Hadamard difference, the ppm ranges on which two sub-experiments
#: differing only in that difference's editing band are compared, and the order of the complex
#: polynomial baseline fitted on each range (it absorbs the smooth tails of the signals the band
#: does edit). GSH band (4.56/4.58; HERCULES 4.18): NAA 2.01 with Glu/Gln/GABA 1.9-2.1, none
#: coupled to 3.9-4.8 ppm; the edited NAA aspartyl lines (2.5-2.7) and GSH (2.95) lie outside.
#: 1.9 ppm band (GABA): Cr 3.03, Cho 3.2, Tau, mI and Cr 3.92, none coupled to 1.6-2.2 ppm; the
#: edited GABA+ (3.0) lies under Cr, so this pair is the weaker one (docs/editing.md).
REPORTER_WINDOWS = {"diff_gaba": (((2.9, 3.35), (3.85, 4.0)), 1), "diff_gsh": (((1.85, 2.15),), 0)}


def split_interleaved(spectra: Spectra, *, n_conditions: int = 2, dim: str = "dyn") -> Spectra:
    """Turn interleaved transients (cond 0, cond 1, cond 0, ...) along ``dim`` into
    ``(..., dyn, edit, ...)`` with ``edit`` right after ``dim``."""
    ax = axis_of(spectra, dim)
    k = spectra.shape[ax]
    if "edit" in spectra.dims:
        raise InputError("data already have an edit dimension")
    if n_conditions < 2 or k % n_conditions:
        raise InputError(f"{k} transients cannot be split into {n_conditions} interleaved conditions")
    shape = spectra.data.shape[:ax] + (k // n_conditions, n_conditions) + spectra.data.shape[ax + 1:]
    dims = spectra.dims[:ax + 1] + ("edit",) + spectra.dims[ax + 1:]
    return spectra.replace(data=spectra.data.reshape(shape), dims=dims)


def edit_scores(spectra: Spectra, *, dim: str = "edit") -> np.ndarray:
    """Per condition: NAA (1.95-2.10 ppm) / Cho (3.15-3.25 ppm) magnitude peak ratio.

    Informative only (``detect_edit_order`` returns it as ``naa_cho``): a real, finite
    1.9 ppm editing pulse partly saturates the NAA singlet at 2.01 ppm, so ON often has the
    smaller ratio; but the same window holds the Glu/Gln/GABA/NAAG C3 multiplets the pulse
    inverts, which ON refocuses (larger), so with ideal or broad pulses ON has the *larger*
    ratio. The sign of this score is a property of the pulse, not of editing.
    """
    ax = axis_of(spectra, dim)
    d = np.moveaxis(spectra.data, ax, 0).reshape(spectra.shape[ax], -1, spectra.n_points).mean(axis=1)
    mag = np.abs(axes.to_spectrum(d))
    ppm = spectra.ppm
    naa = mag[:, axes.ppm_window(ppm, (1.95, 2.10))].max(axis=1)
    cho = mag[:, axes.ppm_window(ppm, (3.15, 3.25))].max(axis=1)
    return naa / np.maximum(cho, 1e-300)


def _noise_sd_real(spec: np.ndarray, ppm: np.ndarray) -> float:
    """Robust SD of the real spectrum where no metabolite is (outside -0.5..10 ppm)."""
    quiet = (ppm < -0.5) | (ppm > 10.0)
    x = spec.real[quiet] if quiet.sum() >= 32 else np.diff(spec.real) / np.sqrt(2)
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


def detect_edit_order(spectra: Spectra, *, dim: str = "edit", ppm_range=EDITED_PPM_RANGE,
                      z_confident: float = Z_CONFIDENT) -> dict:
    """Which condition is ON (two conditions only), from the edited signal itself.

    The editing pulse refocuses the J evolution of the spins coupled to the ones it inverts,
    so ON has *more* absorption signal than OFF where the edited partners resonate: GABA+ at
    3.0 ppm, Glx at 3.75, Glu C4 at 2.35 for 1.9 ppm (GABA) editing; GSH at 2.95 and the NAA
    aspartyl lines at 2.5-2.7 for 4.56 ppm (GSH) editing; everything else cancels in ON - OFF.
    The two conditions (mean over other axes) are aligned on the Cho singlet (as
    :func:`align_subspectra`), put on the ppm scale (NAA/Cr/Cho) and phased together (tallest
    peak of their sum); the real part of condition 1 - condition 0 integrated over
    ``ppm_range`` then has the sign of ON - OFF when condition 1 is ON. Its noise SD comes from
    the signal-free ends of the spectrum.

    Returns ``order`` (indices giving OFF, ON), ``on_index``, ``scores`` (absorption integral
    of each condition over ``ppm_range``: ON's is larger), ``z`` (the difference over its noise
    SD), ``confident`` (``z >= z_confident``), ``naa_cho`` (:func:`edit_scores`, informative)
    and ``offset_ppm`` (the reference offset found on the sum).
    """
    ax = axis_of(spectra, dim)
    if spectra.shape[ax] != 2:
        raise InputError(f"ON/OFF detection needs 2 edit conditions, got {spectra.shape[ax]}; "
                         f"give the order explicitly")
    d = np.moveaxis(spectra.data, ax, 0).reshape(2, -1, spectra.n_points).mean(axis=1)
    pair = spectra.replace(data=d, dims=("edit",))
    aligned, _ = align_subspectra(pair)
    total = aligned.mean("edit")
    offset = find_reference_offset(total)["offset_ppm"]
    phi = np.deg2rad(float(np.ravel(zero_order_phase(total))[0]))
    spec = axes.to_spectrum(aligned.data) * np.exp(-1j * phi)
    ppm = spectra.ppm - offset
    win = axes.ppm_window(ppm, ppm_range)
    scores = spec.real[:, win].sum(axis=1)
    sd = np.hypot(_noise_sd_real(spec[0], ppm), _noise_sd_real(spec[1], ppm)) * np.sqrt(win.sum())
    z = float((scores[1] - scores[0]) / max(sd, 1e-300))
    on = int(z > 0)
    return {"order": (1 - on, on), "on_index": on, "scores": scores, "z": abs(z),
            "confident": bool(abs(z) >= z_confident), "naa_cho": edit_scores(spectra, dim=dim),
            "offset_ppm": float(offset)}


def reorder(spectra: Spectra, order, *, dim: str = "edit") -> Spectra:
    """Conditions along ``dim`` re-ordered by index list ``order``."""
    ax = axis_of(spectra, dim)
    return spectra.with_data(np.take(spectra.data, list(order), axis=ax))


def align_subspectra(spectra: Spectra, *, dim: str = "edit", reference: int = 0,
                     ppm_range=SUBSPECTRA_PPM_RANGE, max_shift_hz: float = 20.0,
                     baseline_order: int = 1) -> tuple[Spectra, dict]:
    """Align every condition along ``dim`` to condition ``reference`` in a window
    unaffected by editing (the Cho singlet by default), fitting a complex linear
    baseline across the window too: the dispersive tails of signals that editing
    changes (NAA at 2.01 ppm, GABA/Glx multiplets) reach into any window and would
    otherwise bias the phase by degrees, which the DIFF spectrum's GABA+ area cannot
    tolerate. Works on averaged sub-spectra ``(..., edit, ...)``; returns
    ``freq_shift_hz``/``phase_deg`` per condition."""
    ax = axis_of(spectra, dim)
    ref = np.take(spectra.data, reference, axis=ax)
    tmpl = ref.reshape(-1, spectra.n_points)
    out, info = align_transients(spectra, dim=dim, ppm_range=ppm_range, template=tmpl,
                                 n_passes=1, max_shift_hz=max_shift_hz, baseline_order=baseline_order)
    return out, {k: info[k] for k in ("freq_shift_hz", "phase_deg", "amplitude")}


def hadamard_pairs(differences=None) -> list[tuple[int, int, str]]:
    """The pairs ``(i, j, name)`` of sub-experiments that differ in exactly one editing band
    (the sign of difference ``name`` only); e.g. HERMES: (A, B) and (C, D) in the GSH band,
    (A, C) and (B, D) in the GABA band."""
    diffs = HADAMARD_DIFFERENCES if differences is None else differences
    names = list(diffs)
    signs = np.sign(np.array([diffs[c] for c in names], float))          # (n_diff, n)
    out = []
    for i in range(signs.shape[1]):
        for j in range(i + 1, signs.shape[1]):
            changed = np.flatnonzero(signs[:, i] != signs[:, j])
            if changed.size == 1:
                out.append((i, j, names[changed[0]]))
    return out


def _nearest_owner(ppm: np.ndarray, masks: list[np.ndarray]) -> np.ndarray:
    """For every spectral point, the index of the mask nearest to it in ppm."""
    dist = np.stack([np.min(np.abs(ppm[:, None] - ppm[m][None, :]), axis=1) for m in masks])
    return np.argmin(dist, axis=0)


def align_hadamard(spectra: Spectra, *, dim: str = "edit", differences=None, windows=None,
                   reference: int | None = None, n_passes: int = 6,
                   max_shift_hz: float = 20.0) -> tuple[Spectra, dict]:
    """Align the four sub-spectra of HERMES/HERCULES to each other, pair by pair, each pair on
    the signals it shares (in the spirit of Osprey's osp_editSubSpecAlign and Gannet's
    AlignSubSpectra, here solved jointly).

    Two sub-experiments that differ in one editing band only (:func:`hadamard_pairs`) hold
    identical signals wherever that band edits nothing: the pair's reporter window
    (:data:`REPORTER_WINDOWS`: Cr/Cho 2.9-3.35 ppm plus Cr 3.85-4.0 ppm for the 1.9 ppm band,
    NAA/Glx 1.85-2.15 ppm for the GSH band). The offsets ``theta_k = (f_k, phi_k)`` of the conditions
    minimise the sum over pairs of ``||S_i(theta_i) - S_j(theta_j)||^2`` over each pair's
    window, with the all-OFF condition (D) fixed: block coordinate descent, each condition
    registered (:func:`~mrsquant.preproc.align.register`, frequency, phase and amplitude, no
    baseline) to a template made of its already-aligned partners, each partner on its own
    window. A coarse cross-correlation on the union of the windows against the reference
    starts it (drifts up to ``max_shift_hz``). The windows sit at their ppm positions plus the
    reference condition's offset (:func:`~mrsquant.preproc.phase.find_reference_offset`), one
    offset for all conditions, so no per-condition ppm estimate enters the differences.

    Parameters
    ----------
    spectra : Spectra
        Averaged sub-spectra with an ``edit`` axis of 4 in the order of ``differences``' weights
        (A, B, C, D); other leading axes are batched.
    differences, windows : dict, optional
        Difference weights (:data:`HADAMARD_DIFFERENCES`) and per difference the reporter
        window(s) (:data:`REPORTER_WINDOWS`).
    reference : int, optional
        Condition kept fixed (default: the one OFF in every difference).

    Returns
    -------
    aligned : Spectra
    info : dict
        ``freq_shift_hz``, ``phase_deg``, ``amplitude`` (shape ``spectra.shape``: offsets removed
        from each condition, in :func:`align_subspectra`'s sense), ``pairs``, ``reference``,
        ``offset_ppm``.
    """
    diffs = HADAMARD_DIFFERENCES if differences is None else differences
    wins = REPORTER_WINDOWS if windows is None else windows
    ax = axis_of(spectra, dim)
    n = spectra.shape[ax]
    if any(len(w) != n for w in diffs.values()):
        raise InputError(f"{n} edit conditions, the Hadamard differences have "
                         f"{', '.join(str(len(w)) for w in diffs.values())} weights")
    pairs = hadamard_pairs(diffs)
    if reference is None:
        off = [k for k in range(n) if all(w[k] < 0 for w in diffs.values())]
        reference = off[0] if off else 0
    data = np.moveaxis(spectra.data, ax, -2)                  # (..., n, N)
    lead = data.shape[:-2]
    y = data.reshape(-1, n, spectra.n_points)                 # (G, n, N)
    t = spectra.time
    offset = find_reference_offset(spectra.isel(**{dim: reference}))["offset_ppm"]
    ppm = spectra.ppm - offset
    masks, orders = {}, np.full(spectra.n_points, -1)
    for name in {c for *_, c in pairs}:
        ranges, order = wins[name]
        m = np.zeros(spectra.n_points, bool)
        for rng in ranges:
            m |= axes.ppm_window(ppm, rng)
        if m.sum() < 8:
            raise InputError(f"reporter window {ranges} ppm holds fewer than 8 points")
        masks[name] = m
        orders[m] = order
    partners = {k: [(j if i == k else i, masks[c]) for i, j, c in pairs if k in (i, j)] for k in range(n)}
    moving = [k for k in range(n) if k != reference]
    if any(not partners[k] for k in range(n)):
        raise InputError("every sub-experiment needs a partner differing in one editing band")
    union = np.logical_or.reduce(list(masks.values()))
    step_hz = min(0.5, spectra.bandwidth_hz / spectra.n_points)
    f = np.zeros(y.shape[:2])
    p = np.zeros(y.shape[:2])
    a = np.ones(y.shape[:2])
    f0, p0, a0 = _grid_start(y[:, moving], y[:, reference], t, union, max_shift_hz, step_hz)
    f[:, moving], p[:, moving], a[:, moving] = f0, p0, a0
    owners = {k: _nearest_owner(spectra.ppm, [m for _, m in partners[k]]) for k in moving}
    for _ in range(n_passes):
        for k in moving:
            spec = np.zeros((y.shape[0], spectra.n_points), complex)
            for q, (j, _m) in enumerate(partners[k]):
                aligned_j = shift_phase_fid(y[:, j], t, -f[:, j], -np.rad2deg(p[:, j]))
                spec[:, owners[k] == q] = axes.to_spectrum(aligned_j)[:, owners[k] == q]
            mask_k = np.logical_or.reduce([m for _, m in partners[k]])
            f[:, k], p[:, k], a[:, k], _ = register(y[:, k], axes.to_fid(spec), t, mask_k, f_init=f[:, k],
                                                    p_init=p[:, k], a_init=a[:, k], baseline_order=orders)
    shape = lead + (n,)

    def back(v):
        return np.moveaxis(v.reshape(shape), -1, ax)

    info = {"freq_shift_hz": back(f), "phase_deg": back(np.rad2deg(p)), "amplitude": back(a),
            "pairs": pairs, "reference": int(reference), "offset_ppm": float(offset)}
    out = shift_phase(spectra, shift_hz=-info["freq_shift_hz"], phase_deg=-info["phase_deg"])
    where = "; ".join(f"[{i}]-[{j}] on {wins[c][0]} (baseline order {wins[c][1]})" for i, j, c in pairs)
    out = add_processing(out, "Frequency and phase correction",
                         f"Hadamard sub-spectra aligned pairwise on shared signals, jointly, reference "
                         f"[{reference}], dim=DIM_{dim.upper()}: {where} ppm")
    return out, info


def align_pairs(spectra: Spectra, *, dim: str = "dyn", edit_dim: str = "edit",
                ppm_range=ALIGN_PPM_RANGE, robust: bool = True, n_passes: int = 4) -> tuple[Spectra, dict]:
    """Align the repetitions of an edited acquisition in ONE frame for all conditions.

    Each repetition's sum over the conditions (ON + OFF of a MEGA pair, A + B + C + D of a
    HERMES set) is registered along ``dim`` (:func:`~mrsquant.preproc.align.align_transients`,
    leave-one-out template) and the same frequency and phase correction is applied to every
    condition of that repetition. The sum is the same signal in every repetition, so no edited
    difference enters the registration (no ON-to-OFF fit, no bias from GABA or Glx lying under
    the window); the pair sum has sqrt(2) (MEGA) the SNR of one transient; and the averaged
    conditions come out in a common frame, so they need no sub-spectra alignment afterwards
    (the within-pair drift, one TR, is what is left). Returns the aligned data and
    ``freq_shift_hz``/``phase_deg``/``amplitude``/``rms_residual`` per transient (shape
    ``spectra.shape``, equal across conditions)."""
    eax = axis_of(spectra, edit_dim)
    dims = spectra.dims[:eax] + spectra.dims[eax + 1:]
    total = spectra.replace(data=spectra.data.sum(axis=eax), dims=dims)
    _, info = align_transients(total, dim=dim, ppm_range=ppm_range, robust=robust, n_passes=n_passes)
    out_info = {k: np.broadcast_to(np.expand_dims(info[k], eax), spectra.shape).copy()
                for k in ("freq_shift_hz", "phase_deg", "amplitude", "rms_residual")}
    out = shift_phase(spectra, shift_hz=-out_info["freq_shift_hz"], phase_deg=-out_info["phase_deg"])
    out = add_processing(out, "Frequency and phase correction",
                         f"Spectral registration (Near et al. 2015) of the sums over DIM_{edit_dim.upper()} "
                         f"(one correction per repetition, all conditions), dim=DIM_{dim.upper()}, "
                         f"window={ppm_range} ppm{', robust (Huber) weighting' if robust else ''}, "
                         f"passes={n_passes}")
    return out, out_info


def edit_combinations(spectra: Spectra, *, dim: str = "edit",
                      combinations: dict | None = None) -> dict[str, Spectra]:
    """Weighted sums over the ``edit`` axis, each a :class:`Spectra` without it.

    ``combinations`` maps a name to one weight per condition; default for two
    conditions (OFF, ON): ``diff = ON - OFF`` and ``sum = ON + OFF``.
    """
    ax = axis_of(spectra, dim)
    n = spectra.shape[ax]
    if combinations is None:
        if n != 2:
            raise InputError(f"{n} edit conditions: give the combinations (e.g. HERMES weights)")
        combinations = MEGA_COMBINATIONS
    out = {}
    for name, weights in combinations.items():
        w = np.asarray(weights, float)
        if w.shape != (n,):
            raise InputError(f"combination {name!r} has {w.size} weights for {n} conditions")
        data = np.tensordot(w, np.moveaxis(spectra.data, ax, 0), axes=(0, 0))
        s = spectra.replace(data=data, dims=spectra.dims[:ax] + spectra.dims[ax + 1:])
        method = "Subtraction of sub-spectra" if np.any(w < 0) else "Addition of sub-spectra"
        out[name] = add_processing(s, method, f"{name} = " + " ".join(f"{x:+g}*[{i}]" for i, x in enumerate(w)))
    return out
