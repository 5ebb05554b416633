"""Batched numerical core of the linear-combination fit. numpy and scipy only.

Every array has a leading batch axis ``N`` (spectra). No I/O, no logging, no
per-spectrum Python loop: loops run over iterations, never over spectra.

Model of the spectrum at the fit-window points ``w`` (docs/fitting.md)::

    y_w = exp(i (phi0 + phi1 (ppm_w - ppm_ref))) * sum_m a_m FFT[b_m(t) h_g(m)(t)]_w
          + sum_k (c_k' + i c_k'') B_k(ppm_w)

    h_g(t) = exp(-2 pi i d_g t - pi l_g t - s_g t^2)

with non-negative amplitudes ``a`` and baseline coefficients ``c`` solved
linearly (variable projection, Kaufman's Jacobian) inside a batched
Levenberg-Marquardt loop over the nonlinear parameters
``theta = [phi0, phi1, d_0..d_G-1, l_0..l_G-1, s_0..s_G-1]``. A positive
``d`` moves a group to higher ppm.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TWO_PI = 2.0 * np.pi


# ---------------------------------------------------------------------------
# fixed design (data independent)
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Design:
    """Everything the core needs that does not depend on the data."""

    basis_t: np.ndarray      # (M, P) complex64 basis FIDs on the data grid
    t: np.ndarray            # (P,) s
    groups: np.ndarray       # (M,) int group of each basis spectrum
    n_groups: int
    fft_idx: np.ndarray      # (W,) indices into the *unshifted* FFT for the window
    ppm_w: np.ndarray        # (W,) ppm of the window points
    ppm_ref: float           # pivot of the first-order phase
    spline: np.ndarray       # (W, K) real baseline design
    penalty: np.ndarray      # (K, K) roughness penalty (second differences)
    lower: np.ndarray        # (Q,) bounds of theta
    upper: np.ndarray
    prior_mean: np.ndarray   # (Q,) soft priors on theta (sd = inf: none)
    prior_sd: np.ndarray
    f0_mhz: float = 123.2
    centre_ppm: float = 4.65
    amp_prior: np.ndarray | None = None   # (M, M) prior penalty on amplitudes, x kappa per spectrum
    nonneg: np.ndarray | None = None      # (M,) bool: amplitudes held >= 0 (None: all)
    tcr_mask: np.ndarray | None = None    # (M,) bool, the basis spectra making up tCr
    metabolite_shifts: bool = False       # extra per-basis-spectrum shift e_m (theta tail)
    n_sub: int = 1                        # sub-spectra fitted together (edited sum/differences):
    # basis_t and t are then S blocks of P points concatenated, the window (W,) is taken from
    # each block's own FFT and ppm_w, spline are the S windows concatenated (S*W,)

    @property
    def n_basis(self) -> int:
        return self.basis_t.shape[0]

    @property
    def n_theta(self) -> int:
        return 2 + 3 * self.n_groups + (self.n_basis if self.metabolite_shifts else 0)

    def slices(self):
        g = self.n_groups
        return slice(2, 2 + g), slice(2 + g, 2 + 2 * g), slice(2 + 2 * g, 2 + 3 * g)

    @property
    def shift_slice(self) -> slice:
        """Per-basis-spectrum shifts (empty unless ``metabolite_shifts``)."""
        start = 2 + 3 * self.n_groups
        return slice(start, self.n_theta)


def bspline_design(x: np.ndarray, spacing: float, degree: int = 3) -> np.ndarray:
    """Cubic B-spline basis ``(len(x), K)`` on equally spaced knots covering ``x``."""
    lo, hi = float(np.min(x)), float(np.max(x))
    n_int = max(1, int(np.ceil((hi - lo) / spacing)))
    inner = np.linspace(lo, hi, n_int + 1)
    h = inner[1] - inner[0]
    knots = np.concatenate([lo - h * np.arange(degree, 0, -1), inner, hi + h * np.arange(1, degree + 1)])
    return _bspline_rows(np.clip(np.asarray(x, float), lo, hi), knots, degree)


def _bspline_rows(x: np.ndarray, knots: np.ndarray, degree: int) -> np.ndarray:
    """Dense B-spline design matrix ``(len(x), len(knots) - degree - 1)``, ``x`` inside the base
    interval: de Boor's recurrence for the ``degree + 1`` non-zero functions of each row, the
    same operations in the same order as ``scipy.interpolate.BSpline.design_matrix`` (its
    ``_deBoor_D``), so the values are bit-identical; scipy.interpolate itself (and the
    scipy.optimize, linalg, sparse and spatial it imports) cost a fresh process ~0.15 s."""
    n_basis = len(knots) - degree - 1
    ell = np.clip(np.searchsorted(knots, x, side="right") - 1, degree, n_basis - 1)   # t[l] <= x < t[l+1]
    h = np.zeros((x.size, degree + 1))
    h[:, 0] = 1.0
    for j in range(1, degree + 1):
        hh = h[:, :j].copy()
        h[:, 0] = 0.0
        for n in range(1, j + 1):
            xb, xa = knots[ell + n], knots[ell + n - j]
            same = xb == xa
            with np.errstate(divide="ignore", invalid="ignore"):
                w = np.where(same, 0.0, hh[:, n - 1] / (xb - xa))
            h[:, n - 1] += np.where(same, 0.0, w * (xb - x))
            h[:, n] = np.where(same, 0.0, w * (x - xa))
    out = np.zeros((x.size, n_basis))
    out[np.arange(x.size)[:, None], (ell - degree)[:, None] + np.arange(degree + 1)] = h
    return out


def difference_penalty(k: int, order: int = 2) -> np.ndarray:
    d = np.diff(np.eye(k), n=order, axis=0)
    return d.T @ d


# ---------------------------------------------------------------------------
# model pieces
# ---------------------------------------------------------------------------
def modulation(design: Design, theta: np.ndarray) -> np.ndarray:
    """Time-domain shift/broadening per group ``(N, G, P)``, or per basis
    spectrum ``(N, M, P)`` when per-metabolite shifts are on; complex64."""
    sd, sl, ss = design.slices()
    t = design.t.astype(np.float32)
    d, l, s = theta[:, sd], theta[:, sl], theta[:, ss]
    if design.metabolite_shifts:
        g = design.groups
        d = d[:, g] + theta[:, design.shift_slice]
        l, s = l[:, g], s[:, g]
    # real arithmetic in float32 is ~3x faster than a complex exp
    d, l, s = (v[..., None].astype(np.float32) for v in (d, l, s))
    mag = np.exp(-np.pi * l * t - s * (t * t))
    ph = np.float32(-TWO_PI) * d * t
    out = np.empty(mag.shape, np.complex64)
    out.real = mag * np.cos(ph)
    out.imag = mag * np.sin(ph)
    return out


def group_slices(design: Design) -> list[slice]:
    """Contiguous basis ranges of the groups (FitModel sorts the basis by group)."""
    edges = np.searchsorted(design.groups, np.arange(design.n_groups + 1))
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def modulated_fids(design: Design, h: np.ndarray) -> np.ndarray:
    """Basis FIDs times their modulation ``h`` (from :func:`modulation`), ``(N, M, P)`` complex64."""
    if design.metabolite_shifts:
        return design.basis_t[None, :, :] * h
    x = np.empty((h.shape[0],) + design.basis_t.shape, np.complex64)
    for g, sl in enumerate(group_slices(design)):  # 1-3 groups, not spectra
        np.multiply(design.basis_t[None, sl, :], h[:, g:g + 1, :], out=x[:, sl, :])
    return x


def _window_fft(x: np.ndarray, design: Design) -> np.ndarray:
    """FFT along the last axis, keeping the window points: ``(..., W)`` complex128.

    ``scipy.fft`` (pocketfft) with one worker: 3.5x faster than numpy's FFT on complex64 (which
    the basis and data are), and faster than ``workers=-1`` both for one spectrum and in the
    forked processes of a batch (docs/benchmarks.md, "speed"). Imported on the first fit, not
    with the module, so that ``mrsquant --help`` and the CLI's imports do not pay its 0.2 s.
    """
    import scipy.fft as sfft  # lazy: heavy (0.2 s import; only when a fit runs)

    if design.n_sub > 1:           # S concatenated sub-spectra: one FFT per block
        spec = sfft.fft(x.reshape(x.shape[:-1] + (design.n_sub, -1)), axis=-1, workers=1, overwrite_x=True)
        return spec[..., design.fft_idx].astype(np.complex128).reshape(x.shape[:-1] + (-1,))
    spec = sfft.fft(x, axis=-1, workers=1, overwrite_x=True)
    idx = design.fft_idx
    if idx[-1] - idx[0] == idx.size - 1:        # contiguous window (it does not straddle the centre)
        return spec[..., idx[0]:idx[-1] + 1].astype(np.complex128)
    return spec[..., idx].astype(np.complex128)


def phase_factor(design: Design, theta: np.ndarray) -> np.ndarray:
    return np.exp(1j * (theta[:, :1] + theta[:, 1:2] * (design.ppm_w - design.ppm_ref)))


def metabolite_columns(design: Design, theta: np.ndarray):
    """Phased basis spectra at the window ``(N, W, M)`` and the modulation ``h``."""
    h = modulation(design, theta)
    cols = _window_fft(modulated_fids(design, h), design)      # (N, M, W)
    cols *= phase_factor(design, theta)[:, None, :]
    return np.swapaxes(cols, 1, 2), h


def _gram(a: np.ndarray) -> np.ndarray:
    """Batched ``a^H a``."""
    if np.iscomplexobj(a):
        return np.einsum("nri,nrj->nij", a.conj(), a, optimize=True)
    return np.swapaxes(a, 1, 2) @ a


def _tmv(a: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Batched ``a^T v``."""
    return (np.swapaxes(a, 1, 2) @ v[..., None])[..., 0]


def _mv(a: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Batched ``a v``."""
    return (a @ v[..., None])[..., 0]


def _real_stack(z: np.ndarray) -> np.ndarray:
    """Complex ``(N, W, C)`` -> real ``(N, 2W, C)``."""
    return np.concatenate([z.real, z.imag], axis=1)


def linear_design(design: Design, cols: np.ndarray) -> np.ndarray:
    """Real design ``(N, 2W, M + 2K)``: metabolite columns then real/imag baseline."""
    n, w, m = cols.shape
    k = design.spline.shape[1]
    out = np.zeros((n, 2 * w, m + 2 * k))
    out[:, :, :m] = _real_stack(cols)
    out[:, :w, m:m + k] = design.spline
    out[:, w:, m + k:] = design.spline
    return out


def penalty_matrix(design: Design, lam: np.ndarray, m: int, kappa: np.ndarray | None = None) -> np.ndarray:
    """Block-diagonal ``(N, M+2K, M+2K)`` penalty: ``kappa P`` on amplitudes (soft
    prior, optional), ``lam R`` on the real and imaginary baseline."""
    k = design.penalty.shape[0]
    n = lam.shape[0]
    pen = np.zeros((n, m + 2 * k, m + 2 * k))
    if kappa is not None and design.amp_prior is not None:
        pen[:, :m, :m] = kappa[:, None, None] * design.amp_prior
    pen[:, m:m + k, m:m + k] = lam[:, None, None] * design.penalty
    pen[:, m + k:, m + k:] = lam[:, None, None] * design.penalty
    return pen


# ---------------------------------------------------------------------------
# batched non-negative least squares on the first M unknowns
# ---------------------------------------------------------------------------
def _masked_solve(h: np.ndarray, b: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Solve ``h x = b`` with the variables where ``free`` is False pinned to 0."""
    fm = free.astype(float)
    hm = h * fm[:, :, None] * fm[:, None, :]
    idx = np.arange(h.shape[1])
    hm[:, idx, idx] += (1.0 - fm) * 1.0
    # tiny ridge for columns that are all zero (e.g. empty basis spectra)
    scale = np.maximum(np.abs(hm[:, idx, idx]).max(axis=1), 1e-300)
    hm[:, idx, idx] += 1e-12 * scale[:, None]
    return np.linalg.solve(hm, (b * fm)[..., None])[..., 0]


def nnls_normal(h: np.ndarray, b: np.ndarray, m: int, max_iter: int | None = None,
                free0: np.ndarray | None = None,
                constrained: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ``x'hx/2 - b'x`` with ``x[:m] >= 0`` (batched active set).

    ``constrained`` (M,) bool: only these of the first M are held non-negative (default all).

    Returns the solution ``(N, C)`` and the boolean free set ``(N, C)``.
    Lawson-Hanson in the normal-equation form, run on all spectra at once:
    each round re-solves only the spectra whose active set changed, and a
    spectrum leaves the loop when no constrained variable wants to enter.
    ``free0`` warm-starts the free set (e.g. from the previous LM step).
    """
    n, c = b.shape
    free = np.ones((n, c), bool) if free0 is None else free0.copy()
    x = _masked_solve(h, b, free)
    blocked = np.zeros((n, m), bool)
    todo = np.arange(n)
    tol = 1e-10 * np.maximum(np.abs(b[:, :m]).max(axis=1), 1e-300)
    con = np.ones(m, bool) if constrained is None else np.asarray(constrained, bool)
    for _ in range(max_iter or 3 * m + 5):
        if todo.size == 0:
            break
        neg = (x[todo, :m] < 0) & free[todo, :m] & con
        has_neg = neg.any(axis=1)
        if has_neg.any():
            # drop the most negative amplitude of every spectrum that has one
            rows = todo[has_neg]
            worst = np.argmin(np.where(neg[has_neg], x[rows, :m], np.inf), axis=1)
            free[rows, worst] = False
            x[rows] = _masked_solve(h[rows], b[rows], free[rows])
            continue
        grad = b[todo, :m] - _mv(h[todo], x[todo])[:, :m]
        cand = ~free[todo, :m] & ~blocked[todo] & (grad > tol[todo, None])
        has = cand.any(axis=1)
        todo, cand, grad = todo[has], cand[has], grad[has]
        if todo.size == 0:
            break
        best = np.argmax(np.where(cand, grad, -np.inf), axis=1)
        trial = free[todo].copy()
        trial[np.arange(todo.size), best] = True
        xt = _masked_solve(h[todo], b[todo], trial)
        ok = xt[np.arange(todo.size), best] > 0   # accept an entering variable only if positive
        free[todo[ok], best[ok]] = True
        x[todo[ok]] = xt[ok]
        blocked[todo[~ok], best[~ok]] = True
    x[:, :m] = np.where(free[:, :m], np.where(con, np.maximum(x[:, :m], 0.0), x[:, :m]), 0.0)
    return x, free


# ---------------------------------------------------------------------------
# one evaluation: linear solve for given theta
# ---------------------------------------------------------------------------
@dataclass
class Evaluation:
    cost: np.ndarray        # (N,) residual sum of squares + penalty
    x: np.ndarray           # (N, M+2K) linear unknowns
    free: np.ndarray        # (N, M+2K)
    cols: np.ndarray        # (N, W, M) phased metabolite columns
    h: np.ndarray           # (N, G, P) or (N, M, P) time-domain modulation
    dmat: np.ndarray        # (N, 2W, M+2K)
    hmat: np.ndarray        # (N, C, C) normal matrix incl. penalty
    resid: np.ndarray       # (N, 2W) real-stacked residual


def evaluate(design: Design, y: np.ndarray, theta: np.ndarray, lam: np.ndarray,
             kappa: np.ndarray | None = None, free0: np.ndarray | None = None) -> Evaluation:
    """Linear (amplitude + baseline) solve at fixed ``theta``.

    ``free0``: a starting active set for the non-negative solve (warm start).
    """
    m = design.n_basis
    cols, h = metabolite_columns(design, theta)
    dmat = linear_design(design, cols)
    yr = _real_stack(y[..., None])[..., 0]
    hmat = _gram(dmat) + penalty_matrix(design, lam, m, kappa)
    b = _tmv(dmat, yr)
    x, free = nnls_normal(hmat, b, m, free0=free0, constrained=design.nonneg)
    resid = yr - _mv(dmat, x)
    k = design.penalty.shape[0]
    cre, cim = x[:, m:m + k], x[:, m + k:]
    pen = lam * (np.einsum("ni,ij,nj->n", cre, design.penalty, cre)
                 + np.einsum("ni,ij,nj->n", cim, design.penalty, cim))
    if kappa is not None and design.amp_prior is not None:
        a = x[:, :m]
        pen = pen + kappa * np.einsum("ni,ij,nj->n", a, design.amp_prior, a)
    cost = np.sum(resid * resid, axis=1) + pen
    return Evaluation(cost, x, free, cols, h, dmat, hmat, resid)


def theta_jacobian(design: Design, theta: np.ndarray, ev: Evaluation) -> np.ndarray:
    """d(model)/d(theta) at fixed linear unknowns, real-stacked ``(N, 2W, Q)``."""
    m = design.n_basis
    g = design.n_groups
    a = ev.x[:, :m]
    metab = _mv(ev.cols, a)                   # phased metabolite model
    jac = np.empty((theta.shape[0], design.ppm_w.size, design.n_theta), complex)
    jac[:, :, 0] = 1j * metab
    jac[:, :, 1] = 1j * (design.ppm_w - design.ppm_ref) * metab
    # group sums in the time domain, then one FFT per group and parameter
    # the modulation is common to a group: sum_m a_m b_m h_g = h_g (sum_m a_m b_m)
    a32 = a.astype(np.complex64)
    if design.metabolite_shifts:
        per = a32[:, :, None] * design.basis_t[None, :, :] * ev.h                    # (N, M, P)
        sums = np.stack([per[:, design.groups == k].sum(axis=1) for k in range(g)], axis=1)
    else:
        sums = np.stack([a32[:, sl] @ design.basis_t[sl] for sl in group_slices(design)], axis=1) * ev.h
    t = design.t.astype(np.float32)
    stack = np.concatenate([(-TWO_PI * 1j) * t * sums, -np.pi * t * sums, -(t * t) * sums], axis=1)
    if design.metabolite_shifts:
        stack = np.concatenate([stack, (-TWO_PI * 1j) * t * per], axis=1)
    spec = _window_fft(stack, design) * phase_factor(design, theta)[:, None, :]     # (N, 3G [+M], W)
    jac[:, :, 2:] = np.swapaxes(spec, 1, 2)
    return _real_stack(jac)


def project_out(ev: Evaluation, jr: np.ndarray) -> np.ndarray:
    """Kaufman's variable-projection Jacobian: remove the part the linear unknowns absorb."""
    fm = ev.free.astype(float)
    d = ev.dmat * fm[:, None, :]
    h = ev.hmat * fm[:, :, None] * fm[:, None, :]
    idx = np.arange(h.shape[1])
    h[:, idx, idx] += (1.0 - fm)
    # tiny ridge: a basis spectrum with no signal in the window (e.g. Cr in a DIFF basis)
    scale = np.maximum(np.abs(h[:, idx, idx]).max(axis=1), 1e-300)
    h[:, idx, idx] += 1e-12 * scale[:, None]
    coef = np.linalg.solve(h, np.swapaxes(d, 1, 2) @ jr)
    return jr - d @ coef


def prior_cost(design: Design, theta: np.ndarray, noise_var: np.ndarray) -> np.ndarray:
    z = (theta - design.prior_mean) / design.prior_sd
    return noise_var * np.einsum("nq,nq->n", z, z)


def levenberg_marquardt(design: Design, y: np.ndarray, theta0: np.ndarray, lam: np.ndarray,
                        noise_var: np.ndarray, *, kappa: np.ndarray | None = None,
                        max_iter: int = 40, tol_chi2: float = 0.02):
    """Batched LM over ``theta``; returns ``(theta, Evaluation, n_iter per spectrum)``.

    Each iteration works on the spectra that have not converged yet (an index
    subset of the batch), so easy spectra stop costing time early. A spectrum
    has converged when an accepted step lowers chi^2 (cost / noise variance)
    by less than ``tol_chi2``: further steps cannot change the estimates by a
    meaningful fraction of their uncertainty.
    """
    theta = np.clip(theta0, design.lower, design.upper)
    ev = evaluate(design, y, theta, lam, kappa)
    cost = ev.cost + prior_cost(design, theta, noise_var)
    n = theta.shape[0]
    mu = np.full(n, 0.3)
    n_iter = np.zeros(n, int)
    active = np.ones(n, bool)
    inv_var = 1.0 / design.prior_sd ** 2
    eye = np.eye(theta.shape[1])
    for _ in range(max_iter):
        idx = np.nonzero(active)[0]
        if idx.size == 0:
            break
        sub = _take(ev, idx)
        th, nv = theta[idx], noise_var[idx]
        jr = project_out(sub, theta_jacobian(design, th, sub))
        jtj = _gram(jr) + nv[:, None, None] * np.diag(inv_var)
        grad = _tmv(jr, sub.resid) - nv[:, None] * (th - design.prior_mean) * inv_var
        diag = np.einsum("nqq->nq", jtj)
        diag = diag + 1e-12 * diag.max(axis=1, keepdims=True)
        damped = jtj + mu[idx, None, None] * diag[:, :, None] * eye
        # parameters held at a bound by the gradient are frozen for this step
        # (projected LM): otherwise their clipped step spoils the others
        span = design.upper - design.lower
        pinned = (((th <= design.lower + 1e-9 * span) & (grad < 0))
                  | ((th >= design.upper - 1e-9 * span) & (grad > 0)))
        keep = (~pinned).astype(float)
        damped = damped * keep[:, :, None] * keep[:, None, :] + (1.0 - keep)[:, :, None] * eye
        step = np.linalg.solve(damped, (grad * keep)[..., None])[..., 0]
        trial = np.clip(th + step, design.lower, design.upper)
        ev_t = evaluate(design, y[idx], trial, lam[idx], None if kappa is None else kappa[idx],
                        free0=sub.free)
        cost_t = ev_t.cost + prior_cost(design, trial, nv)
        better = cost_t < cost[idx]
        gain = np.where(better, (cost[idx] - cost_t) / nv, 0.0)
        acc = idx[better]
        theta[acc] = trial[better]
        cost[acc] = cost_t[better]
        _put(ev, acc, ev_t, better)
        mu[idx] = np.where(better, np.maximum(mu[idx] / 3.0, 1e-7), mu[idx] * 4.0)
        n_iter[idx] += 1
        done = (better & (gain < tol_chi2)) | (mu[idx] > 1e6)
        active[idx[done]] = False
    return theta, ev, n_iter


_FIELDS = ("cost", "x", "free", "cols", "h", "dmat", "hmat", "resid")


def _take(ev: Evaluation, idx: np.ndarray) -> Evaluation:
    if idx.size == ev.cost.shape[0]:
        return ev
    return Evaluation(**{f: getattr(ev, f)[idx] for f in _FIELDS})


def _put(ev: Evaluation, rows: np.ndarray, new: Evaluation, mask: np.ndarray) -> None:
    if rows.size:
        for f in _FIELDS:
            getattr(ev, f)[rows] = getattr(new, f)[mask]


# ---------------------------------------------------------------------------
# uncertainty
# ---------------------------------------------------------------------------
def _information(design: Design, theta: np.ndarray, ev: Evaluation, lam: np.ndarray,
                 noise_var: np.ndarray, kappa: np.ndarray | None):
    """Fisher information ``F`` of ``[a, c, theta]`` and the prior precision ``P``
    (baseline roughness, soft theta priors and, with ``kappa``, the amplitude prior)."""
    m = design.n_basis
    jt = theta_jacobian(design, theta, ev)                       # (N, 2W, Q)
    full = np.concatenate([ev.dmat, jt], axis=2)
    fisher = _gram(full)
    c = ev.dmat.shape[2]
    prior = np.zeros_like(fisher)
    prior[:, :c, :c] = penalty_matrix(design, lam, m, kappa)
    prior[:, c:, c:] = noise_var[:, None, None] * np.diag(1.0 / design.prior_sd ** 2)
    fixed = np.nonzero(design.upper <= design.lower)[0] + c     # held parameters are not estimated
    if fixed.size:
        fisher[:, fixed, :] = 0.0
        fisher[:, :, fixed] = 0.0
        prior[:, fixed, :] = 0.0
        prior[:, :, fixed] = 0.0
        prior[:, fixed, fixed] = 1.0
    return fisher, prior


def _regular_inverse(total: np.ndarray) -> np.ndarray:
    idx = np.arange(total.shape[1])
    total = total.copy()
    total[:, idx, idx] += 1e-12 * np.abs(total[:, idx, idx]).max(axis=1, keepdims=True)
    return np.linalg.inv(total)


def covariance(design: Design, theta: np.ndarray, ev: Evaluation, lam: np.ndarray,
               noise_var: np.ndarray, kappa: np.ndarray | None = None) -> np.ndarray:
    """Covariance of ``[a, c, theta]`` from the full Fisher information.

    Without prior information this is the Cramer-Rao bound ``F^-1``. The
    baseline roughness penalty and the soft priors (amplitude ratios, phase1,
    per-metabolite shifts) are prior precision ``P``; the estimator then has
    the covariance ``(F + P)^-1 F (F + P)^-1`` (the sandwich form), which is
    what is reported: the SD the estimate really has over noise realisations.
    Amplitudes pinned at zero by the non-negativity constraint keep their
    unconstrained variance.
    """
    fisher, prior = _information(design, theta, ev, lam, noise_var, kappa)
    inv = _regular_inverse(fisher + prior)
    return inv @ fisher @ inv * noise_var[:, None, None]


def amplitude_posteriors(design: Design, theta: np.ndarray, ev: Evaluation, lam: np.ndarray,
                         noise_var: np.ndarray, kappa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Amplitude blocks ``(N, M, M)`` of the posterior covariance with and without
    the amplitude prior (both with the baseline and nuisance priors).

    ``1 - w' A w / w' B w`` is the fraction of the precision of ``w' a`` that
    comes from the amplitude prior (the prior influence, 0..1).
    """
    m = design.n_basis
    fisher, prior = _information(design, theta, ev, lam, noise_var, kappa)
    with_prior = _regular_inverse(fisher + prior)[:, :m, :m]
    prior[:, :m, :m] -= kappa[:, None, None] * design.amp_prior
    without = _regular_inverse(fisher + prior)[:, :m, :m]
    return with_prior * noise_var[:, None, None], without * noise_var[:, None, None]
