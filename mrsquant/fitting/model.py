"""``FitModel`` (data independent) and its ``fit`` method (DIPY style).

``FitModel(basis, ...)`` holds the basis, the options and, per data grid, the
fixed design of the batched core (resampled basis, window, baseline design,
bounds). ``FitModel.fit(spectra)`` flattens the leading dims to ``(N, n)``,
fits all N spectra in one batched call (chunked to bound memory) and returns
a :class:`~mrsquant.fitting.result.FitResult`.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
from threadpoolctl import threadpool_limits

from .. import axes
from ..basis.basis import Basis
from ..basis.names import is_lipid, is_macromolecule
from ..errors import BasisMismatchError, BasisMismatchWarning, InputError
from ..spectra import Spectra
from . import _core
from .priors import prior_matrix
from .quality import reference_singlet, singlet_fwhm_hz
from .result import FitResult

GROUP_NAMES = ("metabolites", "macromolecules", "lipids")


def available_cores() -> int:
    """Cores this process may run on (CPU affinity, e.g. a container's share), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:          # not on Linux
        return max(1, os.cpu_count() or 1)


def _single_threaded_blas():
    """BLAS on one thread for the batched core.

    The core does many small (~60 x 60) batched products: a threaded BLAS only
    adds synchronisation cost there (30 ms instead of 0.05 ms per product on
    a busy 2-core machine). The FFTs still use all cores.
    """
    return threadpool_limits(limits=1, user_api="blas")


@dataclass(frozen=True)
class FitOptions:
    """Model options (all keyword arguments of :class:`FitModel`)."""

    ppm_range: tuple[float, float] = (0.2, 4.2)
    baseline: str = "spline"              # "spline", "poly" or "none"
    baseline_spacing_ppm: float = 0.4     # knot spacing of the cubic B-spline baseline
    baseline_order: int = 3               # polynomial order when baseline="poly"
    baseline_stiffness: float | None = None  # None: chosen automatically per spectrum
    lineshape: str = "voigt"              # "voigt" or "lorentzian"
    lineshape_selection: bool = True      # voigt: average with a Lorentzian fit by Akaike weight
    max_shift_ppm: float = 0.25
    nuisance_max_shift_ppm: float | None = None   # MM/lipid group shifts (None: max_shift_ppm)
    max_lw_hz: float = 40.0
    nuisance_max_lw_hz: float | None = None   # MM/lipid group extra widths (None: max_lw_hz)
    max_iter: int = 40
    warmup_iter: int = 6                  # iterations before the baseline stiffness is chosen
    chunk_size: int = 32                  # spectra per batched call: small chunks stay in cache
    jobs: int | None = None               # chunks fitted concurrently (None: all cores); no effect on results
    phase1: bool = True
    phase1_sd_deg_per_ppm: float = 10.0
    metabolite_shifts: bool = False       # a soft extra shift per metabolite
    metabolite_shift_sd_hz: float = 1.0
    priors: str | None = None             # None (default) or "literature": soft ratio priors (fitting/priors.py),
    prior_strength: float = 1.5           # opt-in; prior SD = half the published range / strength
    nonnegative: bool = True              # False: metabolite amplitudes may go below 0 (MM/lipids stay >= 0)


def _group_kinds(names) -> np.ndarray:
    """Index into GROUP_NAMES of every basis name."""
    return np.array([2 if is_lipid(n) else 1 if is_macromolecule(n) else 0 for n in names])


def default_groups(names) -> np.ndarray:
    """Metabolites 0, macromolecules 1, lipids 2 (only groups present are kept)."""
    _, groups = np.unique(_group_kinds(names), return_inverse=True)
    return groups


class FitModel:
    """Linear-combination model of MR spectra.

    Parameters
    ----------
    basis : Basis
    **options
        See :class:`FitOptions` (``ppm_range``, ``baseline``, ``lineshape``...).

    Examples
    --------
    >>> model = FitModel(basis)                      # doctest: +SKIP
    >>> result = model.fit(spectra)                  # doctest: +SKIP
    >>> result.to_xarray()                           # doctest: +SKIP
    """

    def __init__(self, basis: Basis, **options):
        # a basis spectrum without signal (e.g. Cr in a MEGA DIFF basis) cannot be fitted: drop it
        peak = np.abs(basis.fids).max(axis=1)
        empty = peak <= 1e-9 * peak.max()
        self.dropped = tuple(np.asarray(basis.names)[empty])
        if empty.all():
            raise BasisMismatchError("every basis spectrum is empty")
        if empty.any():
            basis = basis.select([n for n, e in zip(basis.names, empty) if not e])
        parametric = [n for n in basis.names if n != "Mac" and (is_macromolecule(n) or is_lipid(n))]
        if "Mac" in basis.names and parametric:
            # a measured MM spectrum already holds the MM (and often the lipid) signal: parametric
            # components on top of it trade signal with it and with GABA/Glx (docs/fitting.md)
            warnings.warn(f"the basis has a measured macromolecule spectrum (Mac) and parametric "
                          f"MM/lipid components ({', '.join(parametric[:4])}{'...' if len(parametric) > 4 else ''}): "
                          f"they describe the same signal; keep one (mrsquant fit --exclude)",
                          BasisMismatchWarning, stacklevel=2)
            self.warnings_at_init = [f"measured Mac and parametric MM/lipid components together: "
                                     f"{', '.join(parametric)}"]
        else:
            self.warnings_at_init = []
        # metabolites first, then macromolecules, then lipids: groups are contiguous in the core
        groups = default_groups(basis.names)
        order = np.argsort(groups, kind="stable")
        self.basis = basis.select([basis.names[i] for i in order])
        self.options = FitOptions(**options)
        self.groups = groups[order]
        self.group_names = tuple(GROUP_NAMES[k] for k in np.unique(_group_kinds(basis.names)))
        self._designs: dict = {}

    # -- data independent design, cached per data grid ----------------------
    def design_for(self, n_points: int, dwelltime_s: float, f0_mhz: float,
                   centre_ppm: float = axes.WATER_PPM) -> _core.Design:
        key = (n_points, round(dwelltime_s, 12), round(f0_mhz, 6), centre_ppm)
        if key not in self._designs:
            self._designs[key] = self._build_design(n_points, dwelltime_s, f0_mhz, centre_ppm)
        return self._designs[key]

    def _build_design(self, n_points, dwelltime_s, f0_mhz, centre_ppm) -> _core.Design:
        opt = self.options
        b = self.basis.resample(dwelltime_s, n_points)
        if abs(b.centre_ppm - centre_ppm) > 1e-6:
            # move the basis so that its ppm scale matches the data's receiver centre
            shift_hz = (b.centre_ppm - centre_ppm) * f0_mhz
            t = axes.time_axis(n_points, dwelltime_s)
            b = b.replace(fids=b.fids * np.exp(-2j * np.pi * shift_hz * t))
        ppm = axes.ppm_axis(n_points, dwelltime_s, f0_mhz, centre_ppm)
        # the outer 2 % of the band are the receiver filter's edge (roll-off, aliasing): never
        # fitted; matters where the band ends inside the fit range (7T, 2000 Hz: 1.3-8.0 ppm)
        inside = np.zeros(n_points, bool)
        edge = max(2, n_points // 50)
        inside[edge:n_points - edge] = True
        win = np.nonzero(axes.ppm_window(ppm, opt.ppm_range) & inside)[0]
        if win.size < 20:
            raise BasisMismatchError(f"fit range {opt.ppm_range} ppm holds only {win.size} points")
        fft_idx = (win - n_points // 2) % n_points
        ppm_w = ppm[win]
        if opt.baseline == "spline":
            spline = _core.bspline_design(ppm_w, opt.baseline_spacing_ppm)
            penalty = _core.difference_penalty(spline.shape[1])
        elif opt.baseline == "poly":
            x = (ppm_w - ppm_w.mean()) / np.ptp(ppm_w) * 2
            spline = np.polynomial.legendre.legvander(x, opt.baseline_order)
            penalty = np.zeros((spline.shape[1],) * 2)
        elif opt.baseline == "none":
            spline = np.zeros((ppm_w.size, 0))
            penalty = np.zeros((0, 0))
        else:
            raise ValueError(f"unknown baseline {opt.baseline!r}")
        g = int(self.groups.max()) + 1
        lower = np.concatenate([[-4 * np.pi, -1.0], np.full(g, -opt.max_shift_ppm * f0_mhz),
                                np.zeros(g), np.zeros(g)])
        max_s = 0.0 if opt.lineshape == "lorentzian" else (np.pi * opt.max_lw_hz / 2) ** 2 / np.log(2)
        upper = np.concatenate([[4 * np.pi, 1.0], np.full(g, opt.max_shift_ppm * f0_mhz),
                                np.full(g, opt.max_lw_hz), np.full(g, max_s)])
        if opt.nuisance_max_lw_hz is not None and opt.nuisance_max_lw_hz != opt.max_lw_hz:
            kinds = np.unique(_group_kinds(b.names))
            nuis = np.nonzero(kinds > 0)[0]
            upper[2 + g + nuis] = opt.nuisance_max_lw_hz
            if opt.lineshape != "lorentzian":
                upper[2 + 2 * g + nuis] = (np.pi * opt.nuisance_max_lw_hz / 2) ** 2 / np.log(2)
        if opt.nuisance_max_shift_ppm is not None:
            kinds = np.unique(_group_kinds(b.names))          # group index -> kind (0 metabolites)
            nuis = 2 + np.nonzero(kinds > 0)[0]
            lower[nuis] = -opt.nuisance_max_shift_ppm * f0_mhz
            upper[nuis] = opt.nuisance_max_shift_ppm * f0_mhz
        prior_mean = np.zeros(2 + 3 * g)
        prior_sd = np.full(2 + 3 * g, np.inf)
        prior_sd[1] = np.deg2rad(opt.phase1_sd_deg_per_ppm)
        if opt.metabolite_shifts:
            m = len(b.names)
            free = (self.groups == 0).astype(float)   # metabolites only; MM/lipid keep the group shift
            lim = 4.0 * opt.metabolite_shift_sd_hz * free
            lower = np.concatenate([lower, -lim])
            upper = np.concatenate([upper, lim])
            prior_mean = np.concatenate([prior_mean, np.zeros(m)])
            prior_sd = np.concatenate([prior_sd, np.where(free > 0, opt.metabolite_shift_sd_hz, np.inf)])
        if not opt.phase1:
            lower[1] = upper[1] = 0.0
        amp_prior = (prior_matrix(b.names, strength=opt.prior_strength)
                     if opt.priors == "literature" else None)
        return _core.Design(
            basis_t=b.fids.astype(np.complex64), t=axes.time_axis(n_points, dwelltime_s),
            groups=self.groups, n_groups=g, fft_idx=fft_idx, ppm_w=ppm_w,
            ppm_ref=float(np.mean(opt.ppm_range)), spline=spline, penalty=penalty,
            lower=lower, upper=upper, prior_mean=prior_mean, prior_sd=prior_sd,
            f0_mhz=float(f0_mhz), centre_ppm=float(centre_ppm), amp_prior=amp_prior,
            nonneg=None if opt.nonnegative else (self.groups != 0),
            tcr_mask=np.isin(b.names, ("Cr", "PCr")), metabolite_shifts=opt.metabolite_shifts)

    # -- fitting -------------------------------------------------------------
    def fit(self, spectra: Spectra, *, names=None, progress=None, jobs: int | None = None) -> FitResult:
        """Fit every spectrum in ``spectra`` (any leading dims) in batched calls.

        ``progress``: optional callable ``progress(n_done)`` called after each chunk.
        ``jobs``: chunks fitted concurrently (forked worker processes; threads where fork
        is unavailable or inside a daemon process). None: every core this process may use.
        The result is identical to ``jobs=1`` (each chunk is fitted the same way, in the
        same order).
        """
        design, fids, names, mismatch = self.prepare(spectra, names)
        with _single_threaded_blas():
            jobs = jobs if jobs is not None else self.options.jobs
            parts = self._fit_chunks(design, fids, progress, available_cores() if jobs is None else jobs)
        return assemble_result(self, design, fids, names, parts, spectra, mismatch)

    def prepare(self, spectra: Spectra, names=None):
        """Check the basis against the data; return ``(design, fids (N, P), names, mismatch)``.

        A field mismatch raises; ``mismatch`` lists what does not stop the fit (e.g. a
        different TE), each also issued as a :class:`BasisMismatchWarning`.
        """
        mismatch = self.basis.check_compatible(spectrometer_frequency_mhz=spectra.spectrometer_frequency_mhz,
                                               te_ms=spectra.te_ms)
        for msg in mismatch:
            warnings.warn(msg, BasisMismatchWarning, stacklevel=3)
        design = self.design_for(spectra.n_points, spectra.dwelltime_s,
                                 spectra.spectrometer_frequency_mhz, spectra.centre_ppm)
        fids = spectra.flat()
        n = fids.shape[0]
        if names is None:
            names = [f"spectrum{i}" for i in range(n)] if n > 1 else ["spectrum"]
        names = list(names)
        if len(names) != n:
            raise InputError(f"{len(names)} names for {n} spectra")
        return design, fids, names, mismatch

    def _fit_chunks(self, design, fids, progress, jobs=1):
        n, size = fids.shape[0], self.options.chunk_size
        starts = list(range(0, n, size))

        def one(start):
            return fit_batch(design, fids[start:start + size], self.options, self.basis.names)

        if jobs <= 1 or len(starts) == 1:
            parts = []
            for start in starts:
                parts.append(one(start))
                if progress is not None:
                    progress(min(start + size, n))
            return parts
        global _FORKED
        _FORKED = (design, fids, size, self.options, tuple(self.basis.names))   # before the fork
        try:
            with _chunk_pool(int(jobs)) as pool:
                mapped = pool.imap(_fit_chunk, starts) if hasattr(pool, "imap") else pool.map(one, starts)
                parts = []
                for start, part in zip(starts, mapped):   # in order: same result as serial
                    parts.append(part)
                    if progress is not None:
                        progress(min(start + size, n))
        finally:
            _FORKED = None
        return parts


#: what the forked chunk workers fit (set in the parent before the fork, inherited)
_FORKED: tuple | None = None


def _fit_chunk(start: int) -> dict:
    """One chunk in a forked worker: the same call as the serial path, BLAS on one thread."""
    design, fids, size, options, names = _FORKED
    with _single_threaded_blas():
        return fit_batch(design, fids[start:start + size], options, names)


def _chunk_pool(jobs: int):
    """Worker processes forked from this one after :data:`_FORKED` is set, so they inherit
    it (nothing is pickled on the way in); threads where fork is unavailable or this is a
    daemon process (a dask worker).

    Processes, not threads: the chunk fit is many small numpy calls whose Python glue holds
    the GIL, so two threads reached 0.58-0.72 of two cores (docs/benchmarks.md, "(e) Cores")."""

    if "fork" in mp.get_all_start_methods() and not mp.current_process().daemon:
        return mp.get_context("fork").Pool(jobs)
    return ThreadPoolExecutor(max_workers=jobs)


# ---------------------------------------------------------------------------
# batch fit: initialisation, LM, baseline stiffness, uncertainty
# ---------------------------------------------------------------------------
def noise_sd(spectra_full: np.ndarray, ppm: np.ndarray) -> np.ndarray:
    """Noise SD per real component from the signal-free ends of the spectrum.

    Uses points below -1 ppm and above 9.5 ppm (1H), detrended by a straight
    line per region, robust (MAD) estimate. See docs/conventions.md. The outer 1 %
    of the band (at least 2 points each side) is left out: the receiver's filter
    edge, where real files carry glitches (the suspect Siemens RDA: first and last
    points tens of noise SDs off).
    """
    out = []
    edge = max(2, ppm.size // 100)
    inner = np.zeros(ppm.size, bool)
    inner[edge:ppm.size - edge] = True
    for sel in ((ppm < -1.0) & inner, (ppm > 9.5) & inner):
        if sel.sum() < 16:
            continue
        seg = spectra_full[:, sel]
        x = np.linspace(-1, 1, seg.shape[1])
        vals = []
        for part in (seg.real, seg.imag):
            coef = np.polynomial.polynomial.polyfit(x, part.T, 1)
            resid = part - np.polynomial.polynomial.polyval(x, coef)
            vals.append(1.4826 * np.median(np.abs(resid - np.median(resid, axis=1, keepdims=True)), axis=1))
        out.append(np.mean(vals, axis=0))
    if not out:
        # a narrow bandwidth (e.g. 1200 Hz at 3T: -0.2..9.6 ppm): the nearest signal-free ends,
        # below 0 and above 8 ppm together, by the robust SD of first differences (insensitive to
        # a slow baseline and to a few small peaks); the outer 10 % of points hold MM/lipid signal
        diffs = [np.diff(spectra_full[:, sel], axis=1) for sel in ((ppm < 0.0) & inner, (ppm > 8.0) & inner)
                 if sel.sum() >= 4]
        d = np.concatenate(diffs, axis=1) if diffs else np.zeros((spectra_full.shape[0], 0))
        if d.shape[1] >= 24:
            vals = [1.4826 * np.median(np.abs(x - np.median(x, axis=1, keepdims=True)), axis=1) / np.sqrt(2)
                    for x in (d.real, d.imag)]
            return np.mean(vals, axis=0)
    if not out:  # no signal-free region: fall back to the outer 10 % of points
        k = max(8, ppm.size // 10)
        seg = np.concatenate([spectra_full[:, :k], spectra_full[:, -k:]], axis=1)
        return np.std(np.diff(seg.real, axis=1), axis=1) / np.sqrt(2)
    if len(out) == 1:
        return out[0]
    # both ends: their mean, unless one end holds signal (then the quieter end)
    lo, hi = np.min(out, axis=0), np.max(out, axis=0)
    return np.where(hi < 1.2 * lo, 0.5 * (lo + hi), lo)


def _initial_theta(design: _core.Design, y: np.ndarray, lam: np.ndarray,
                   options: FitOptions) -> np.ndarray:
    """Robust start without hand tuning.

    1. Frequency: cross-correlate |data| with |sum of basis| over +-max_shift;
       keep the best few correlation peaks plus zero shift as candidates.
    2. For every candidate and a few linewidths, an unconstrained complex
       linear fit (each metabolite its own phase) scores the candidate.
    3. Zero-order phase: amplitude-weighted mean phase of the best complex fit.
    """
    n = y.shape[0]
    sd, sl, ss = design.slices()
    theta = np.zeros((n, design.n_theta))
    ref_theta = np.zeros((1, design.n_theta))
    ref_theta[:, sl] = 4.0
    cols, _ = _core.metabolite_columns(design, ref_theta)
    template = np.abs(cols[0]).sum(axis=1)                       # (W,)
    dppm = np.abs(np.diff(design.ppm_w)).mean()
    max_lag = int(options.max_shift_ppm * 0.8 / dppm)
    mag = np.abs(y)
    lags = np.arange(-max_lag, max_lag + 1)
    w = template.size
    scores = np.empty((n, lags.size))
    for i, lag in enumerate(lags):  # loop over lags (a handful), not spectra
        if lag >= 0:
            scores[:, i] = mag[:, lag:] @ template[:w - lag]
        else:
            scores[:, i] = mag[:, :lag] @ template[-lag:]
    # local maxima of the correlation, best three, plus zero lag
    peak = np.zeros_like(scores, bool)
    peak[:, 1:-1] = (scores[:, 1:-1] >= scores[:, :-2]) & (scores[:, 1:-1] >= scores[:, 2:])
    ranked = np.argsort(-np.where(peak, scores, -np.inf), axis=1)[:, :3]
    candidates = np.concatenate([lags[ranked[:, :2]], np.zeros((n, 1), int)], axis=1)
    # a lag of +k points moves the template to later indices = lower ppm
    cand_hz = -candidates * dppm * design.f0_mhz
    best_cost = np.full(n, np.inf)
    best = np.zeros((n, design.n_theta))
    best_phase = np.zeros(n)
    spline = design.spline.astype(complex)
    k = spline.shape[1]
    pen = np.zeros((design.n_basis + k,) * 2)
    pen[design.n_basis:, design.n_basis:] = design.penalty
    for c in range(cand_hz.shape[1]):
        for lw in (4.0,):
            trial = theta.copy()
            trial[:, sd] = cand_hz[:, c:c + 1]
            trial[:, sl] = lw
            cols, _ = _core.metabolite_columns(design, trial)
            dmat = np.concatenate([cols, np.broadcast_to(spline, (n,) + spline.shape)], axis=2)
            h = _core._gram(dmat) + lam[:, None, None] * pen
            idx = np.arange(h.shape[1])
            h[:, idx, idx] += 1e-10 * np.abs(h[:, idx, idx]).max(axis=1, keepdims=True)
            x = np.linalg.solve(h, np.swapaxes(dmat.conj(), 1, 2) @ y[..., None])[..., 0]
            r = y - _core._mv(dmat, x)
            cost = np.einsum("nw,nw->n", r.conj(), r).real
            better = cost < best_cost
            best_cost = np.where(better, cost, best_cost)
            best[better] = trial[better]
            a = x[:, :design.n_basis]
            best_phase = np.where(better, np.angle(np.sum(a * np.abs(a), axis=1)), best_phase)
    best[:, 0] = best_phase
    return best


STIFFNESS_GRID = np.array([1e-1, 1e0, 1e1, 1e2, 1e3, 1e4])


def _lambda_unit(design):
    if design.spline.shape[1] == 0:
        return 0.0
    return float(np.mean(np.sum(design.spline ** 2, axis=0)))


def _prior_weight(design, y, theta, lam, noise_var):
    """Per-spectrum weight of the amplitude prior: sigma^2 / a_tCr^2 from a prior-free fit."""
    if design.amp_prior is None:
        return None
    ev = _core.evaluate(design, y, theta, lam)
    tcr = ev.x[:, :design.n_basis] @ design.tcr_mask.astype(float)
    ok = tcr > 0
    return np.divide(noise_var, np.where(ok, tcr, 1.0) ** 2, out=np.zeros_like(noise_var), where=ok)


def choose_stiffness(design, y, theta, noise_var, kappa=None, grid=STIFFNESS_GRID):
    """Baseline stiffness per spectrum minimising AIC = RSS/sigma^2 + 2 edf (linear part)."""
    unit = _lambda_unit(design)
    n = y.shape[0]
    if unit == 0.0 or not np.any(design.penalty):
        return np.zeros(n)
    cols, _ = _core.metabolite_columns(design, theta)
    dmat = _core.linear_design(design, cols)
    yr = _core._real_stack(y[..., None])[..., 0]
    dtd = _core._gram(dmat)
    b = _core._tmv(dmat, yr)
    best = np.full(n, np.inf)
    lam_best = np.full(n, grid[0] * unit)
    for nu in grid:
        lam = np.full(n, nu * unit)
        h = dtd + _core.penalty_matrix(design, lam, design.n_basis, kappa)
        x, free = _core.nnls_normal(h, b, design.n_basis)
        r = yr - _core._mv(dmat, x)
        rss = np.sum(r * r, axis=1)
        edf = np.einsum("nii->n", np.linalg.solve(h, dtd))
        aic = rss / noise_var + 2.0 * edf
        better = aic < best
        best = np.where(better, aic, best)
        lam_best = np.where(better, lam, lam_best)
    return lam_best


def window_data(design: _core.Design, fids: np.ndarray):
    """Data at the fit window ``(N, W)`` and the noise SD ``(N,)`` of FIDs ``(N, P)``.

    With sub-spectra (``design.n_sub`` S > 1: FIDs of S blocks of P points, e.g. the edited
    sum and difference spectra) each block is transformed on its own and the windows are
    concatenated; the noise SD is the RMS over the blocks (equal for Hadamard combinations).
    """
    n = fids.shape[0]
    s = design.n_sub
    p = fids.shape[1] // s
    spec_full = axes.to_spectrum(fids.reshape(n * s, p))
    ppm_full = axes.ppm_axis(p, design.t[1] - design.t[0], design.f0_mhz, design.centre_ppm)
    sigma = noise_sd(spec_full, ppm_full)
    if s > 1:
        sigma = np.sqrt(np.mean(sigma.reshape(n, s) ** 2, axis=1))
    y = spec_full[:, (design.fft_idx + p // 2) % p].reshape(n, -1)
    return y, sigma


def fit_batch(design: _core.Design, fids: np.ndarray, options: FitOptions, basis_names=()) -> dict:
    """Fit ``fids (N, P)`` with the batched core; returns plain arrays."""
    n = fids.shape[0]
    y, sigma = window_data(design, fids)
    scale = np.abs(y).max(axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    y = y / scale[:, None]
    noise_var = np.maximum((sigma / scale) ** 2, 1e-20)
    unit = _lambda_unit(design)
    if options.baseline_stiffness is not None:
        lam = np.full(n, options.baseline_stiffness * unit)
    else:
        lam = np.full(n, 1e2 * unit)
    theta0 = _initial_theta(design, y, lam, options)
    kappa = _prior_weight(design, y, theta0, lam, noise_var)
    # a few iterations at the default stiffness bring the lineshape close; then the
    # stiffness is chosen and the fit runs to convergence
    warm = options.warmup_iter if options.baseline_stiffness is None and unit > 0 else options.max_iter
    theta, ev, n_iter = _core.levenberg_marquardt(design, y, theta0, lam, noise_var, kappa=kappa,
                                                  max_iter=warm)
    if options.baseline_stiffness is None and unit > 0:
        kappa = _prior_weight(design, y, theta, lam, noise_var)   # tCr from the warmed-up model
        lam = choose_stiffness(design, y, theta, noise_var, kappa)
        theta, ev, n_iter2 = _core.levenberg_marquardt(design, y, theta, lam, noise_var, kappa=kappa,
                                                       max_iter=options.max_iter)
        n_iter += n_iter2
    cov = _core.covariance(design, theta, ev, lam, noise_var, kappa)
    x_lin, w_voigt = ev.x, np.ones(n)
    if options.lineshape == "voigt" and options.lineshape_selection:
        theta, ev, cov, x_lin, w_voigt, n_iter3 = _average_lineshapes(design, y, theta, ev, cov, lam,
                                                                      noise_var, kappa, options)
        n_iter += n_iter3
    m = design.n_basis
    k = design.spline.shape[1]
    amp = x_lin[:, :m] * scale[:, None]
    cov_a = cov[:, :m, :m] * (scale ** 2)[:, None, None]
    base_c = (ev.x[:, m:m + k] + 1j * ev.x[:, m + k:]) * scale[:, None]
    baseline = np.einsum("wk,nk->nw", design.spline, base_c)
    ph = _core.phase_factor(design, theta)
    components = ev.cols * ev.x[:, None, :m] * scale[:, None, None]        # (N, W, M), phased
    unphase = np.conj(ph)
    data_w = y * scale[:, None]
    theta_sd = np.sqrt(np.maximum(np.einsum("nqq->nq", cov[:, -design.n_theta:, -design.n_theta:]), 0))
    extra = {}
    if kappa is not None and design.amp_prior is not None:
        # how much of each estimate came from the prior (FitResult.prior_influence)
        post, data_only = _core.amplitude_posteriors(design, theta, ev, lam, noise_var, kappa)
        extra = {"amp_post_cov": post * (scale ** 2)[:, None, None],
                 "amp_data_cov": data_only * (scale ** 2)[:, None, None]}
    return {
        **extra,
        "amplitude": amp,
        "cov_amplitude": cov_a,
        "theta": theta,
        "theta_sd": theta_sd,
        "lam": lam,
        "noise_sd": sigma,
        "data": data_w * unphase,
        "baseline": baseline * unphase,
        "components": np.swapaxes(components * unphase[:, :, None], 1, 2),   # (N, M, W)
        "fit": (components.sum(axis=2) + baseline) * unphase,
        "fwhm_hz": _reference_fwhm(design, ev.h, basis_names),
        "voigt_weight": w_voigt,
        "n_iter": n_iter,
    }


def assemble_result(model: "FitModel", design: _core.Design, fids: np.ndarray, names, parts: list[dict],
                    spectra: Spectra, mismatch=(), failed_chunks=()) -> FitResult:
    """The one place a :class:`FitResult` is built, for every path (serial, threads, dask, MRSI).

    ``parts`` are the per-chunk array dicts of :func:`fit_batch`, in spectrum order (a failed
    chunk as NaN rows); ``failed_chunks`` lists ``(start, stop, reason)`` of those. Spectra
    without any signal (all points zero, e.g. a masked voxel or a dropped acquisition) cannot be
    fitted: NaN estimates and status ``failed: empty spectrum``.
    """
    arrays = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    status = ["ok"] * fids.shape[0]
    empty = ~np.any(fids != 0, axis=1)
    if empty.any():
        for key in ("amplitude", "cov_amplitude"):
            arrays[key] = arrays[key].astype(float)
            arrays[key][empty] = np.nan
        for i in np.nonzero(empty)[0]:
            status[i] = "failed: empty spectrum (all points zero)"
    for a, b, why in failed_chunks:
        status[a:b] = [f"failed: {why}"] * (b - a)
    return FitResult(arrays=arrays, names=list(names), basis_names=model.basis.names, ppm=design.ppm_w,
                     spectra=spectra, model=model, design=design, shape=spectra.shape, status=status,
                     warnings=list(mismatch) + list(model.warnings_at_init), failed_chunks=failed_chunks)


def _lorentzian_design(design: _core.Design) -> _core.Design:
    """The same design with every Gaussian width held at 0 (fixed, not fitted)."""
    _, _, ss = design.slices()
    upper = design.upper.copy()
    upper[ss] = 0.0
    return replace(design, upper=upper)


def _average_lineshapes(design, y, theta, ev, cov, lam, noise_var, kappa, options):
    """Voigt and Lorentzian lines averaged with Akaike weights (Burnham & Anderson 2002).

    At low SNR the data cannot separate the Lorentzian and Gaussian parts of a
    Voigt line; the Voigt fit then moves width into the Gaussian term, the model
    lines lose their wings, overlapping multiplets and the broad macromolecules
    take that signal and every amplitude reads low (-4 % for tCr at NAA SNR 20;
    docs/fitting.md). The alternative model holds every group's Gaussian width
    at 0; it is refitted from the Voigt solution with the same FWHM. Each
    spectrum's linear unknowns are the AIC-weighted mean of the two fits (G
    parameters apart), and their covariance includes the spread between the two
    (Buckland et al. 1997), so the CRLBs also cover the lineshape choice.
    ``theta`` and the model curves are those of the better-supported fit.
    Where the Voigt fit already has no Gaussian part, both fits are the same
    and no refit is run.
    """
    _, sl, ss = design.slices()
    n = theta.shape[0]
    dl = _lorentzian_design(design)
    n_iter = np.zeros(n, int)
    theta_l = theta.copy()
    theta_l[:, ss] = 0.0
    ev_l = ev
    todo = np.nonzero((theta[:, ss] > 0).any(axis=1))[0]
    if todo.size:
        th = theta[todo]
        fl, fg = th[:, sl], 2.0 * np.sqrt(np.log(2) * th[:, ss]) / np.pi
        th0 = theta_l[todo]
        th0[:, sl] = np.minimum(0.5346 * fl + np.sqrt(0.2166 * fl ** 2 + fg ** 2), design.upper[sl])
        # the weights need chi^2 to ~0.1; the start is close
        th_l, ev_t, n_iter[todo] = _core.levenberg_marquardt(
            dl, y[todo], th0, lam[todo], noise_var[todo], kappa=None if kappa is None else kappa[todo],
            max_iter=options.max_iter, tol_chi2=0.1)
        theta_l[todo] = th_l
        ev_l = _core.Evaluation(**{f: getattr(ev, f).copy() for f in _core._FIELDS})
        _core._put(ev_l, todo, ev_t, np.ones(todo.size, bool))
    cov_l = _core.covariance(dl, theta_l, ev_l, lam, noise_var, kappa)
    chi_v = (ev.cost + _core.prior_cost(design, theta, noise_var)) / noise_var
    chi_l = (ev_l.cost + _core.prior_cost(dl, theta_l, noise_var)) / noise_var
    # Akaike weight of the Voigt fit: the logistic function 1 / (1 + exp(-z)), overflow-free
    w = 0.5 * (1.0 + np.tanh(0.25 * ((chi_l - chi_v) - 2.0 * design.n_groups)))
    x = w[:, None] * ev.x + (1 - w)[:, None] * ev_l.x
    c = x.shape[1]
    dv, dlin = ev.x - x, ev_l.x - x
    cov_x = (w[:, None, None] * (cov[:, :c, :c] + dv[:, :, None] * dv[:, None, :])
             + (1 - w)[:, None, None] * (cov_l[:, :c, :c] + dlin[:, :, None] * dlin[:, None, :]))
    lor = w < 0.5
    theta = np.where(lor[:, None], theta_l, theta)
    cov = np.where(lor[:, None, None], cov_l, cov)
    _core._put(ev, np.nonzero(lor)[0], ev_l, lor)
    cov[:, :c, :c] = cov_x
    return theta, ev, cov, x, w, n_iter


def _reference_fwhm(design, h, basis_names) -> np.ndarray:
    """FWHM (Hz) of the fitted reference singlet (NAA, else Cr...) as it appears in the data."""

    ref = reference_singlet(basis_names)
    if ref is None:
        return np.full(h.shape[0], np.nan)
    i = list(basis_names).index(ref[0])
    k = i if design.metabolite_shifts else design.groups[i]
    p = design.t.size // design.n_sub          # the first sub-spectrum (edited: the sum)
    fid = design.basis_t[i][None, :p].astype(np.complex128) * h[:, k, :p]
    return singlet_fwhm_hz(fid, design.t[1] - design.t[0], design.f0_mhz, design.centre_ppm, ref[1])
