"""Simulated HERMES / HERCULES acquisitions with known GABA and GSH (tests, benchmarks).

Each spectrum is a brain-like mixture of the simulated sub-experiments A-D: every
metabolite at its typical level, GABA and GSH scaled by factors drawn from
``truth_range`` (0.5-1.5 x typical), plus Gaussian macromolecules (identical in all
sub-experiments, so present in the sum only; with ``mm_jitter`` each spectrum's MM widths are
0.7-1.3 x and positions +-0.02 ppm off the nominal ones the fit basis uses, since a real
MM background never matches its model) and a co-edited MM3co at 3.0 ppm in the GABA-ON
sub-experiments. Every spectrum gets its own Lorentzian and Gaussian width, frequency shift and
zero-order phase (shared by its sub-experiments, as after sub-spectrum alignment) and white
complex noise. The noise is that of ``n_transients`` transients of SD ``noise_sd_per_transient``
split evenly over the sub-experiments and averaged (drawn directly on the averages: the same
distribution, without transient-level drift). ``synthetic_press`` gives the unedited short-TE
comparison with the same number of transients and the same noise per transient.

:func:`mega_transients` simulates MEGA-PRESS the way a scanner records it: ON/OFF pairs of
single transients, each with its own frequency offset (one random walk over the whole scan) and
zero-order phase and its own white noise, from given OFF/ON bases at fixed concentrations
(:data:`MEGA_CONC`); its truth holds every transient's offsets and the GABA+/Cr area ratio.

Amplitudes are in basis units (one molecule of a singlet proton gives 1 at t = 0 per
sub-experiment); a T2 factor ``exp(-TE / t2_ms)`` is applied to every metabolite (and
``exp(-TE / mm_t2_ms)`` to the macromolecules), so ``truth`` holds the apparent amplitudes an
ideal fit returns.
"""
from __future__ import annotations

import numpy as np

from .. import axes
from ..basis.basis import Basis
from ..basis.simulate import HADAMARD_SEQUENCES, MACROMOLECULES, MM3CO, gaussian_fid, simulate_basis
from ..spectra import Spectra

#: typical amplitudes (basis units, ~mM) of the simulated brain spectra
TYPICAL_EDITED = {"NAA": 12.0, "NAAG": 1.5, "Cr": 4.5, "PCr": 3.5, "GPC": 1.0, "PCh": 0.6,
                  "Glu": 10.0, "Gln": 3.0, "GABA": 1.2, "GSH": 1.5, "mI": 6.0, "Asp": 2.0,
                  "Tau": 1.5, "Lac": 0.5}
#: macromolecule Gaussians of the simulated spectra (names of basis.simulate.MACROMOLECULES)
MM_EDITED = {"MM0.92": 3.0, "MM1.21": 2.0, "MM1.39": 2.0, "MM1.67": 2.0, "MM2.04": 2.0,
             "MM2.26": 1.0, "MM2.99": 1.5, "MM3.21": 1.0}
#: co-edited MM3co amplitude relative to typical GABA (GABA+ is about half MM at 3 ppm)
MM3CO_TYPICAL = 0.7


def sub_experiment_bases(sequence: str = "hermes", *, te_ms: float = 80.0, field_mhz: float = 123.2,
                         n_points: int = 2048, bandwidth_hz: float = 4000.0,
                         metabolites=None) -> dict[str, Basis]:
    """The four sub-experiment bases {A..D} with the MM Gaussians of :data:`MM_EDITED`."""
    mets = list(metabolites or TYPICAL_EDITED) + list(MM_EDITED)
    return {k: simulate_basis(sequence, te_ms=te_ms, field_mhz=field_mhz, n_points=n_points,
                              bandwidth_hz=bandwidth_hz, metabolites=mets, edit_state=k)
            for k in HADAMARD_SEQUENCES[sequence]}


def _draw(rng, n, truth_range, lw_hz_range, shift_hz_range, phase_deg_range):
    return {"gaba_factor": rng.uniform(*truth_range, n), "gsh_factor": rng.uniform(*truth_range, n),
            "mm3co_factor": rng.uniform(0.5, 1.5, n), "lw_hz": rng.uniform(*lw_hz_range, n),
            "gauss_hz": rng.uniform(2.0, 5.0, n), "shift_hz": rng.uniform(*shift_hz_range, n),
            "phase_deg": rng.uniform(*phase_deg_range, n)}


def _mm_jitter(rng, n, mm_jitter):
    """Per spectrum and MM component: width factor and position offset (ppm) of the truth."""
    m = len(MM_EDITED)
    if not mm_jitter:
        return np.ones((n, m)), np.zeros((n, m))
    return rng.uniform(0.7, 1.3, (n, m)), rng.uniform(-0.02, 0.02, (n, m))


def _mm_fids(basis: Basis, p, te_ms, mm_t2_ms) -> np.ndarray:
    """The truth's macromolecule signal (N, P): the MM_EDITED Gaussians with each spectrum's
    widths and positions (``mm_width``, ``mm_offset_ppm``), T2-weighted."""
    n = p["mm_width"].shape[0]
    out = np.zeros((n, basis.n_points), complex)
    for k, (name, amp) in enumerate(MM_EDITED.items()):
        ppm, fwhm = MACROMOLECULES[name]
        for i in range(n):   # a handful of components per spectrum: generator only, not a fit
            out[i] += amp * gaussian_fid(ppm + p["mm_offset_ppm"][i, k], fwhm * p["mm_width"][i, k],
                                         field_mhz=basis.spectrometer_frequency_mhz,
                                         n_points=basis.n_points, dwelltime_s=basis.dwelltime_s,
                                         centre_ppm=basis.centre_ppm)
    return out * np.exp(-te_ms / mm_t2_ms)


def _lineshape(t, p):
    """Per-spectrum modulation (N, P): Lorentzian + Gaussian width, shift, zero-order phase."""
    s = (np.pi * p["gauss_hz"] / 2) ** 2 / np.log(2)
    return np.exp(1j * np.deg2rad(p["phase_deg"])[:, None]
                  - 2j * np.pi * p["shift_hz"][:, None] * t - np.pi * p["lw_hz"][:, None] * t
                  - s[:, None] * t * t)


def _amplitudes(names, p, te_ms, t2_ms, mm_t2_ms):
    """Apparent amplitudes (N, M) of every basis member for each spectrum."""
    n = p["gaba_factor"].size
    amp = np.zeros((n, len(names)))
    for j, name in enumerate(names):
        if name in TYPICAL_EDITED:
            f = p["gaba_factor"] if name == "GABA" else p["gsh_factor"] if name == "GSH" else 1.0
            amp[:, j] = TYPICAL_EDITED[name] * f * np.exp(-te_ms / t2_ms)
    return amp


def synthetic_hermes(subs: dict[str, Basis], n: int = 10, *, seed: int = 0,
                     truth_range=(0.5, 1.5), n_transients: int = 320,
                     noise_sd_per_transient: float = 0.3, lw_hz_range=(3.0, 6.0),
                     shift_hz_range=(-3.0, 3.0), phase_deg_range=(-20.0, 20.0),
                     t2_ms: float = 160.0, mm_t2_ms: float = 40.0,
                     gaba_on=("A", "B"), mm_jitter: bool = True) -> tuple[Spectra, dict]:
    """``n`` simulated HERMES/HERCULES acquisitions and their truth.

    Returns
    -------
    spectra : Spectra
        Dims ``("spectrum", "edit")``: averaged sub-experiments A-D of each acquisition.
    truth : dict
        ``amplitude`` (N, M) apparent amplitudes with ``names``, ``GABA``, ``GSH``, ``MM3co``
        (N,) and the drawn parameters.
    """
    rng = np.random.default_rng(seed)
    keys = list(subs)
    b0 = subs[keys[0]]
    te = float(b0.te_ms)
    t = axes.time_axis(b0.n_points, b0.dwelltime_s)
    p = _draw(rng, n, truth_range, lw_hz_range, shift_hz_range, phase_deg_range)
    p["mm_width"], p["mm_offset_ppm"] = _mm_jitter(rng, n, mm_jitter)
    amp = _amplitudes(b0.names, p, te, t2_ms, mm_t2_ms)
    mm = _mm_fids(b0, p, te, mm_t2_ms)          # not edited: the same in every sub-experiment
    mm3co = MM3CO_TYPICAL * TYPICAL_EDITED["GABA"] * p["mm3co_factor"]
    g = gaussian_fid(MM3CO[0], MM3CO[1] / b0.spectrometer_frequency_mhz,
                     field_mhz=b0.spectrometer_frequency_mhz, n_points=b0.n_points,
                     dwelltime_s=b0.dwelltime_s, amplitude=MM3CO[2], centre_ppm=b0.centre_ppm)
    h = _lineshape(t, p)
    per_sub = n_transients // len(keys)
    sd = noise_sd_per_transient / np.sqrt(per_sub)
    data = np.empty((n, len(keys), b0.n_points), complex)
    for k, key in enumerate(keys):
        clean = amp @ subs[key].fids
        # MM3co: +g/4 in each GABA-ON, -g/4 in each OFF sub-experiment -> 1 g in the GABA diff
        sign = 0.25 if key in gaba_on else -0.25
        clean = clean + sign * mm3co[:, None] * g[None, :] + mm
        noise = rng.normal(0, sd, (n, b0.n_points)) + 1j * rng.normal(0, sd, (n, b0.n_points))
        data[:, k] = clean * h + noise
    spectra = Spectra(data=data, dims=("spectrum", "edit"), dwelltime_s=b0.dwelltime_s,
                      spectrometer_frequency_mhz=b0.spectrometer_frequency_mhz, te_ms=te,
                      tr_ms=2000.0, centre_ppm=b0.centre_ppm)
    names = list(b0.names)
    truth = dict(p, amplitude=amp, names=names, GABA=amp[:, names.index("GABA")],
                 GSH=amp[:, names.index("GSH")], MM3co=mm3co)
    return spectra, truth


def synthetic_press(basis: Basis, truth: dict, *, seed: int = 1, n_transients: int = 320,
                    noise_sd_per_transient: float = 0.3, t2_ms: float = 160.0,
                    mm_t2_ms: float = 40.0) -> tuple[Spectra, dict]:
    """Unedited acquisitions (e.g. PRESS TE 30) of the same brains as ``truth`` (same
    concentrations, lineshapes, shifts, phases), ``n_transients`` averaged."""
    rng = np.random.default_rng(seed)
    te = float(basis.te_ms)
    t = axes.time_axis(basis.n_points, basis.dwelltime_s)
    n = truth["gaba_factor"].size
    amp = _amplitudes(basis.names, truth, te, t2_ms, mm_t2_ms)
    sd = noise_sd_per_transient / np.sqrt(n_transients)
    noise = rng.normal(0, sd, (n, basis.n_points)) + 1j * rng.normal(0, sd, (n, basis.n_points))
    data = (amp @ basis.fids + _mm_fids(basis, truth, te, mm_t2_ms)) * _lineshape(t, truth) + noise
    spectra = Spectra(data=data, dims=("spectrum",), dwelltime_s=basis.dwelltime_s,
                      spectrometer_frequency_mhz=basis.spectrometer_frequency_mhz, te_ms=te,
                      tr_ms=2000.0, centre_ppm=basis.centre_ppm)
    names = list(basis.names)
    return spectra, {"amplitude": amp, "names": names, "GABA": amp[:, names.index("GABA")],
                     "GSH": amp[:, names.index("GSH")]}


def hermes_transients(subs: dict[str, Basis], n_dyn: int = 16, *, seed: int = 0,
                      noise_sd_per_transient: float = 8.0, **options) -> tuple[Spectra, dict]:
    """One simulated acquisition as transients: dims ``("dyn", "edit")`` (``n_dyn`` transients
    per sub-experiment A-D), for the preprocessing + fit path (``mrsquant fit``)."""
    clean, truth = synthetic_hermes(subs, 1, seed=seed, noise_sd_per_transient=0.0, **options)
    rng = np.random.default_rng(seed + 1)
    shape = (n_dyn,) + clean.data.shape[1:]
    noise = rng.normal(0, noise_sd_per_transient, shape) + 1j * rng.normal(0, noise_sd_per_transient, shape)
    return clean.replace(data=clean.data[0][None] + noise, dims=("dyn", "edit")), truth


#: concentrations (basis units) of the simulated MEGA-PRESS brain spectra (:func:`mega_transients`)
MEGA_CONC = {"GABA": 1.5, "NAA": 12.0, "NAAG": 1.5, "Cr": 4.0, "PCr": 4.0, "GPC": 1.0, "PCh": 0.5,
             "Glu": 10.0, "Gln": 3.0, "mI": 6.0, "GSH": 1.5}
#: window of the GABA+ and Cr areas of the MEGA truth (ppm), and the signal-free DC-offset window
MEGA_AREA_PPM = (2.6, 3.45)
_DC_PPM = (5.5, 8.0)


def mega_subspectra(subs: dict[str, Basis], *, conc=None, only=None, lw_hz: float = 0.0,
                    gauss_hz: float = 8.0) -> dict[str, np.ndarray]:
    """Noiseless OFF and ON FIDs ``{"off": (P,), "on": (P,)}``: ``conc`` (default
    :data:`MEGA_CONC`; basis members it does not name are 0) times the bases ``subs["off"]``,
    ``subs["on"]`` (same member names), with a Lorentzian ``lw_hz`` and Gaussian ``gauss_hz``
    FWHM line; ``only`` keeps just those metabolites."""
    conc = MEGA_CONC if conc is None else conc
    off = subs["off"]
    t = axes.time_axis(off.n_points, off.dwelltime_s)
    line = np.exp(-np.pi * lw_hz * t - (np.pi * gauss_hz * t) ** 2 / (4 * np.log(2)))
    c = np.array([conc.get(m, 0.0) if only is None or m in only else 0.0 for m in off.names])
    return {k: c @ subs[k].fids * line for k in ("off", "on")}


def mega_gaba_cr(subs: dict[str, Basis], **lineshape) -> float:
    """The GABA+/Cr truth of :func:`mega_transients`: the real area over :data:`MEGA_AREA_PPM` of
    the noiseless GABA-only DIFF (ON - OFF) over that of the noiseless Cr+PCr-only OFF, each
    spectrum's DC offset (median over 5.5-8 ppm: the first point's) removed. ``lineshape``:
    ``conc``, ``lw_hz``, ``gauss_hz`` as :func:`mega_subspectra`."""
    off = subs["off"]
    ppm = axes.ppm_axis(off.n_points, off.dwelltime_s, off.spectrometer_frequency_mhz, off.centre_ppm)
    dc, win = axes.ppm_window(ppm, _DC_PPM), axes.ppm_window(ppm, MEGA_AREA_PPM)

    def area(fid):
        s = axes.to_spectrum(fid).real
        return float(np.sum(s[win] - np.median(s[dc])))
    g = mega_subspectra(subs, only={"GABA"}, **lineshape)
    cr = mega_subspectra(subs, only={"Cr", "PCr"}, **lineshape)
    return area(g["on"] - g["off"]) / area(cr["off"])


def mega_transients(subs: dict[str, Basis], n_pairs: int = 32, *, seed: int = 0,
                    snr_per_transient: float = 40.0, conc=None, lw_hz: float = 0.0,
                    gauss_hz: float = 8.0, drift_hz_per_tr: float = 0.4,
                    phase_sd_deg: float = 0.0, te_ms: float | None = None) -> tuple[Spectra, dict]:
    """One simulated MEGA-PRESS acquisition: ``n_pairs`` ON/OFF pairs of single transients.

    Known truth: the transients are acquired OFF, ON, OFF, ... (one TR apart); transient ``k``
    is the noiseless sub-spectrum (:func:`mega_subspectra`) times
    ``exp(i (2 pi f_k t + phi_k))`` plus complex white noise of its own. ``f`` is one Gaussian
    random walk over all ``2 n_pairs`` transients (SD ``drift_hz_per_tr`` per step), ``phi``
    independent per transient (SD ``phase_sd_deg``). The noise SD per real/imaginary time point
    is ``height / snr_per_transient / sqrt(P)``, ``height`` the NAA peak (max modulus over
    1.9-2.1 ppm) of the noiseless OFF spectrum: ``snr_per_transient`` is the NAA height over
    the noise SD of the real spectrum of one OFF transient. The random draws (walk, phases,
    noise) are the same for a given ``seed`` whatever the drift sizes, so
    ``drift_hz_per_tr=0, phase_sd_deg=0`` gives the same data without drift.

    Returns
    -------
    spectra : Spectra
        Dims ``("dyn", "edit")``, shape ``(n_pairs, 2, P)``, edit index 0 = OFF, 1 = ON.
    truth : dict
        ``freq_shift_hz``, ``phase_deg`` (n_pairs, 2): each transient's offset, in the sense
        of the preprocessing record's ``freq_shift_hz``/``phase_deg`` (what alignment removes);
        ``gaba_cr`` (:func:`mega_gaba_cr`); ``off``/``on`` noiseless FIDs; ``height``;
        ``noise_sd`` (time domain, per real/imaginary part); ``conc``.
    """
    conc = dict(MEGA_CONC if conc is None else conc)
    off_b = subs["off"]
    n = off_b.n_points
    t = axes.time_axis(n, off_b.dwelltime_s)
    ppm = axes.ppm_axis(n, off_b.dwelltime_s, off_b.spectrometer_frequency_mhz, off_b.centre_ppm)
    clean = mega_subspectra(subs, conc=conc, lw_hz=lw_hz, gauss_hz=gauss_hz)
    height = float(np.abs(axes.to_spectrum(clean["off"]))[axes.ppm_window(ppm, (1.9, 2.1))].max())
    sd = height / snr_per_transient / np.sqrt(n)
    rng = np.random.default_rng(seed)
    f = np.cumsum(rng.normal(0, 1, 2 * n_pairs)).reshape(n_pairs, 2) * drift_hz_per_tr
    phase = rng.normal(0, 1, (n_pairs, 2)) * phase_sd_deg
    sub = np.stack([clean["off"], clean["on"]])
    data = sub[None] * np.exp(1j * (2 * np.pi * f[..., None] * t + np.deg2rad(phase)[..., None]))
    data = data + sd * (rng.standard_normal(data.shape) + 1j * rng.standard_normal(data.shape))
    te = float(te_ms if te_ms is not None else off_b.te_ms if off_b.te_ms is not None else 68.0)
    spectra = Spectra(data=data, dims=("dyn", "edit"), dwelltime_s=off_b.dwelltime_s,
                      spectrometer_frequency_mhz=off_b.spectrometer_frequency_mhz, te_ms=te,
                      tr_ms=2000.0, centre_ppm=off_b.centre_ppm)
    truth = {"freq_shift_hz": f, "phase_deg": phase, "off": clean["off"], "on": clean["on"],
             "height": height, "noise_sd": sd, "conc": conc,
             "gaba_cr": mega_gaba_cr(subs, conc=conc, lw_hz=lw_hz, gauss_hz=gauss_hz)}
    return spectra, truth


#: transient-level drift of the preprocessing benchmark and tests: name -> (linear drift over the
#: scan Hz, random-walk SD at the end Hz, jitter SD per transient Hz, phase random-walk SD at the
#: end deg, phase jitter SD per transient deg)
DRIFT_LEVELS = {"none": (0.0, 0.0, 0.0, 0.0, 0.0), "moderate": (2.0, 1.0, 0.3, 5.0, 3.0),
                "large": (8.0, 3.0, 1.0, 15.0, 10.0)}


def drifting_transients(clean: Spectra, n_dyn: int, *, rng, noise_sd_per_transient: float,
                        drift="moderate", noise_spread: float = 0.2) -> tuple[Spectra, dict]:
    """Transients ``("dyn", "edit")`` of one acquisition from its noise-free sub-experiments
    ``clean`` (dims ``("edit",)``), acquired interleaved (A, B, C, D, A, ...), each with its own
    frequency and phase offset and noise.

    The frequency of transient ``m`` (of ``M``, in acquisition order) is a linear drift
    ``u * lin * m / M`` (``u`` uniform in -1..1) plus a Gaussian random walk reaching SD ``walk``
    at the end plus white jitter; the phase a random walk plus jitter; ``drift`` is a name of
    :data:`DRIFT_LEVELS` or such a 5-tuple. The noise SD of each transient is
    ``noise_sd_per_transient * exp(N(0, noise_spread))`` (its SNR varies). Returns the
    transients and ``freq_hz``/``phase_deg``/``noise_sd`` ``(n_dyn, n_edit)`` (in the
    :func:`mrsquant.preproc.shift_phase` sense: the offsets applied).
    """
    lin, walk, jit, pwalk, pjit = DRIFT_LEVELS[drift] if isinstance(drift, str) else drift
    n_edit = clean.shape[0]
    m = n_dyn * n_edit
    steps = np.arange(1, m + 1) / m
    freq = (rng.uniform(-1, 1) * lin * steps + np.cumsum(rng.normal(0, walk / np.sqrt(m), m))
            + rng.normal(0, jit, m))
    phase = np.cumsum(rng.normal(0, pwalk / np.sqrt(m), m)) + rng.normal(0, pjit, m)
    sd = noise_sd_per_transient * np.exp(rng.normal(0, noise_spread, m))
    freq, phase, sd = (v.reshape(n_dyn, n_edit) for v in (freq, phase, sd))
    t = clean.time
    mod = np.exp(1j * (2 * np.pi * freq[..., None] * t + np.deg2rad(phase)[..., None]))
    shape = (n_dyn, n_edit, clean.n_points)
    noise = (rng.normal(0, 1, shape) + 1j * rng.normal(0, 1, shape)) * sd[..., None]
    data = clean.data[None] * mod + noise
    return clean.replace(data=data, dims=("dyn", "edit")), {"freq_hz": freq, "phase_deg": phase,
                                                           "noise_sd": sd}
