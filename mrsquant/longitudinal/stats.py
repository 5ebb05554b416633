"""Statistics for paired designs, vectorised over leading batch axes.

Every function takes arrays whose **last axis** runs over participants and
returns arrays with that axis removed, so one call handles many metabolites
(or many simulated cohorts) at once. NaNs are *not* handled here: callers pass
complete cases (the table functions in :mod:`.analysis` drop and report them).

References
----------
Benjamini Y, Hochberg Y (1995) J R Stat Soc B 57:289-300 (FDR).
Efron B (1987) J Am Stat Assoc 82:171-185 (BCa bootstrap).
Lakens D (2013) Front Psychol 4:863 (Cohen's dz = mean(d) / sd(d)).
"""
from __future__ import annotations

import numpy as np
from scipy import special, stats

__all__ = [
    "paired_summary", "wilcoxon_p", "pearson", "spearman", "bootstrap_corr_ci",
    "welch", "mannwhitney_p", "adjust_pvalues", "mdc95_percent",
]


def paired_summary(delta, *, confidence: float = 0.95):
    """One-sample t statistics of paired differences.

    Parameters
    ----------
    delta : (..., n) ndarray
        Within-participant changes (followup - baseline), complete cases.
    confidence : float
        Level of the two-sided confidence interval of the mean change.

    Returns
    -------
    dict of (...) ndarrays
        ``n, mean, sd, ci_low, ci_high, dz, t, p`` where ``dz = mean / sd``
        (Cohen's dz, sd with ddof=1) and ``p`` is the two-sided paired t-test
        p-value (identical to ``scipy.stats.ttest_rel``).

    Examples
    --------
    >>> out = paired_summary(np.array([1.0, 2.0, 3.0, 4.0]))
    >>> float(out["mean"]), round(float(out["dz"]), 4)
    (2.5, 1.9365)
    """
    d = np.asarray(delta, dtype=float)
    n = d.shape[-1]
    mean = d.mean(axis=-1)
    sd = d.std(axis=-1, ddof=1) if n > 1 else np.full(mean.shape, np.nan)
    se = sd / np.sqrt(n)
    df = n - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        t = mean / se
        dz = mean / sd
    p = 2.0 * stats.t.sf(np.abs(t), df) if df > 0 else np.full(mean.shape, np.nan)
    tcrit = stats.t.ppf(0.5 + confidence / 2.0, df) if df > 0 else np.nan
    return {"n": np.full(mean.shape, n), "mean": mean, "sd": sd, "ci_low": mean - tcrit * se,
            "ci_high": mean + tcrit * se, "dz": dz, "t": t, "p": p}


def wilcoxon_p(delta):
    """Two-sided Wilcoxon signed-rank p-value of paired differences (scipy's defaults).

    Parameters
    ----------
    delta : (..., n) ndarray

    Returns
    -------
    (...) ndarray; NaN where all differences are zero or n < 2.
    """
    d = np.asarray(delta, dtype=float)
    out = np.full(d.shape[:-1], np.nan)
    if d.shape[-1] < 2:
        return out
    flat = d.reshape(-1, d.shape[-1])
    ok = np.any(flat != 0, axis=-1)
    res = out.reshape(-1)
    if ok.any():
        res[ok] = stats.wilcoxon(flat[ok], axis=-1).pvalue
    return res.reshape(out.shape)


def _pearson_from_sums(n, sx, sy, sxx, syy, sxy):
    cov = n * sxy - sx * sy
    var = (n * sxx - sx * sx) * (n * syy - sy * sy)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.clip(cov / np.sqrt(var), -1.0, 1.0)


def pearson(x, y):
    """Pearson r and its two-sided p-value (t distribution, n-2 df) along the last axis.

    Parameters
    ----------
    x, y : (..., n) ndarray

    Returns
    -------
    r, p : (...) ndarrays (same values as ``scipy.stats.pearsonr``).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = x.shape[-1]
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.sum(xc * yc, axis=-1) / np.sqrt(np.sum(xc * xc, axis=-1) * np.sum(yc * yc, axis=-1))
    r = np.clip(r, -1.0, 1.0)
    if n < 3:
        return r, np.full(r.shape, np.nan)
    # exact null distribution of r: Beta(n/2-1, n/2-1) on [-1, 1] (as scipy uses)
    ab = n / 2.0 - 1.0
    p = 2.0 * special.betainc(ab, ab, 0.5 * (1.0 - np.abs(r)))
    return r, np.minimum(p, 1.0)


def _rank(a):
    return stats.rankdata(a, axis=-1)


def spearman(x, y):
    """Spearman rho and two-sided p-value (t approximation, as ``scipy.stats.spearmanr``).

    Parameters
    ----------
    x, y : (..., n) ndarray

    Returns
    -------
    rho, p : (...) ndarrays
    """
    rx, ry = _rank(x), _rank(y)
    rho, _ = pearson(rx, ry)
    n = np.shape(x)[-1]
    if n < 3:
        return rho, np.full(rho.shape, np.nan)
    df = n - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        t = rho * np.sqrt(df / ((rho + 1.0) * (1.0 - rho)))
    p = 2.0 * stats.t.sf(np.abs(t), df)
    return rho, p


def _bca_interval(theta_hat, boot, jack, alpha, expanded=True):
    """Expanded BCa interval; ``boot`` (B, ...), ``jack`` (n, ...), ``theta_hat`` (...).

    The nominal normal quantiles are widened to ``sqrt(n/(n-1)) * t_{n-1}``
    quantiles, the small-sample correction of the "expanded percentile"
    bootstrap (Hesterberg 2015, Am Stat 69:371) applied to the BCa levels; it
    removes the narrowness bias of the bootstrap (coverage ~94 % -> ~95 % at
    n = 20-40 in benchmarks/bench_longitudinal.py).
    """
    n = jack.shape[0]
    valid = np.isfinite(boot)
    nb = valid.sum(axis=0)
    less = np.sum(np.where(valid, boot < theta_hat, False), axis=0)
    equal = np.sum(np.where(valid, boot == theta_hat, False), axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        prop = (less + 0.5 * equal) / nb
    z0 = special.ndtri(np.clip(prop, 1.0 / (2 * np.maximum(nb, 1)), 1 - 1.0 / (2 * np.maximum(nb, 1))))
    jm = np.nanmean(jack, axis=0)
    num = np.nansum((jm - jack) ** 3, axis=0)
    den = 6.0 * np.nansum((jm - jack) ** 2, axis=0) ** 1.5
    with np.errstate(divide="ignore", invalid="ignore"):
        acc = np.where(den > 0, num / den, 0.0)
    out = []
    expand = np.sqrt(n / (n - 1.0))
    for lev in (alpha / 2.0, 1.0 - alpha / 2.0):
        zq = expand * stats.t.ppf(lev, n - 1) if expanded else special.ndtri(lev)
        q = special.ndtr(z0 + (z0 + zq) / (1.0 - acc * (z0 + zq)))
        q = np.where(np.isfinite(q), q, 0.5)
        out.append(_nanquantile_per(boot, q))
    return out[0], out[1]


def _nanquantile_per(boot, q):
    """Quantile of each column of ``boot`` (B, ...) at its own level ``q`` (...)."""
    b = np.sort(np.where(np.isfinite(boot), boot, np.inf), axis=0)
    nb = np.isfinite(boot).sum(axis=0)
    pos = q * (nb - 1)
    lo = np.clip(np.floor(pos).astype(int), 0, np.maximum(nb - 1, 0))
    hi = np.clip(lo + 1, 0, np.maximum(nb - 1, 0))
    frac = pos - np.floor(pos)
    vlo = np.take_along_axis(b, lo[None, ...], axis=0)[0]
    vhi = np.take_along_axis(b, hi[None, ...], axis=0)[0]
    val = vlo + frac * (vhi - vlo)
    return np.where(nb > 1, val, np.nan)


def bootstrap_corr_ci(x, y, *, method: str = "pearson", n_boot: int = 2000,
                      confidence: float = 0.95, seed: int = 0, expanded: bool = True):
    """Bias-corrected and accelerated (BCa) bootstrap CI of a correlation.

    Participants are resampled with replacement (pairs kept together); the
    same resampling indices are used for every batch element, which keeps the
    call vectorised and reproducible for a given ``seed``.

    Parameters
    ----------
    x, y : (..., n) ndarray
        Paired observations along the last axis.
    method : {"pearson", "spearman"}
    n_boot : int
        Number of bootstrap resamples.
    confidence : float
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same CI.
    expanded : bool
        Widen the nominal levels by the small-sample factor (see
        ``_bca_interval``); False gives the textbook BCa interval.

    Returns
    -------
    ci_low, ci_high : (...) ndarrays
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = x.shape[-1]
    batch = x.shape[:-1]
    if n < 4:
        nan = np.full(batch, np.nan)
        return nan, nan.copy()
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    alpha = 1.0 - confidence
    xf = x.reshape(-1, n)
    yf = y.reshape(-1, n)
    if method == "pearson":
        theta = pearson(xf, yf)[0]
        # resample counts: every bootstrap statistic is a weighted sum -> one matmul
        counts = np.zeros((n_boot, n))
        np.add.at(counts, (np.arange(n_boot)[:, None], idx), 1.0)
        xc = xf - xf.mean(axis=-1, keepdims=True)
        yc = yf - yf.mean(axis=-1, keepdims=True)
        boot = _pearson_from_sums(float(n), counts @ xc.T, counts @ yc.T, counts @ (xc * xc).T,
                                  counts @ (yc * yc).T, counts @ (xc * yc).T)
        jack_fn = pearson
    elif method == "spearman":
        theta = spearman(xf, yf)[0]
        boot = np.empty((n_boot, xf.shape[0]))
        chunk = max(1, 200_000 // max(n * xf.shape[0], 1))
        for start in range(0, n_boot, chunk):
            sel = idx[start:start + chunk]                      # (b, n)
            bx = xf[:, sel].transpose(1, 0, 2)                  # (b, batch, n)
            by = yf[:, sel].transpose(1, 0, 2)
            boot[start:start + chunk] = spearman(bx, by)[0]
        jack_fn = spearman
    else:
        raise ValueError(f"unknown correlation method {method!r}")
    keep = ~np.eye(n, dtype=bool)
    jx = np.stack([xf[:, keep[i]] for i in range(n)])           # (n, batch, n-1)
    jy = np.stack([yf[:, keep[i]] for i in range(n)])
    jack = jack_fn(jx, jy)[0]
    lo, hi = _bca_interval(theta, boot, jack, alpha, expanded)
    return lo.reshape(batch), hi.reshape(batch)


def welch(a, b, *, confidence: float = 0.95):
    """Welch two-sample t-test of ``mean(a) - mean(b)`` with its CI.

    Parameters
    ----------
    a, b : 1-D ndarrays (e.g. metabolite change in responders and non-responders)

    Returns
    -------
    dict with ``diff, ci_low, ci_high, t, df, p, hedges_g`` (same p as
    ``scipy.stats.ttest_ind(a, b, equal_var=False)``).
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    na, nb = a.size, b.size
    nan = {"diff": np.nan, "ci_low": np.nan, "ci_high": np.nan, "t": np.nan, "df": np.nan,
           "p": np.nan, "hedges_g": np.nan}
    if na < 2 or nb < 2:
        return nan
    va, vb = a.var(ddof=1), b.var(ddof=1)
    diff = a.mean() - b.mean()
    se2 = va / na + vb / nb
    if se2 <= 0:
        return nan
    df = se2 ** 2 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1))
    t = diff / np.sqrt(se2)
    p = 2.0 * stats.t.sf(abs(t), df)
    tc = stats.t.ppf(0.5 + confidence / 2.0, df)
    sp = np.sqrt(((na - 1) * va + (nb - 1) * vb) / (na + nb - 2))
    corr = 1.0 - 3.0 / (4.0 * (na + nb) - 9.0)
    return {"diff": diff, "ci_low": diff - tc * np.sqrt(se2), "ci_high": diff + tc * np.sqrt(se2),
            "t": t, "df": df, "p": p, "hedges_g": corr * diff / sp if sp > 0 else np.nan}


def mannwhitney_p(a, b):
    """Two-sided Mann-Whitney U p-value (scipy defaults); NaN if a group is empty."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.size < 1 or b.size < 1:
        return np.nan
    return float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)


def between_within_df(exog, groups, *, random_slopes: bool = False, methods: bool = False):
    """Denominator degrees of freedom per fixed effect, between-within method.

    (Schluchter & Elashoff 1990; SAS ``DDFM=BETWITHIN``.) A column that varies
    within any participant (time, time x group) is a within-participant term
    with ``n_obs - n_participants - p_within`` df; the others (intercept, group,
    participant-level covariates) get ``n_participants - p_between``. With two
    complete visits this gives the paired t-test's ``n - 1`` for the time effect.

    ``random_slopes=True`` (time slopes random per participant, or a sandwich
    covariance): the within terms are estimated from per-participant slopes,
    so they get ``n_participants - p_within`` df (``n - 1`` for the time effect
    alone: the one-sample t-test of the slopes).

    ``methods=True`` also returns, per column, which rule gave its df (the ``df_method``
    column of the mixed-model table).
    """
    exog = np.asarray(exog, float)
    groups = np.asarray(groups)
    _, inv = np.unique(groups, return_inverse=True)
    n_groups = inv.max() + 1
    lo = np.full((n_groups, exog.shape[1]), np.inf)
    hi = np.full((n_groups, exog.shape[1]), -np.inf)
    np.minimum.at(lo, inv, exog)
    np.maximum.at(hi, inv, exog)
    within = np.any(hi - lo > 1e-12 * (1 + np.abs(hi)), axis=0)
    df_w = (n_groups - within.sum()) if random_slopes else (len(groups) - n_groups - within.sum())
    df_b = n_groups - (~within).sum()
    df = np.maximum(np.where(within, df_w, df_b), 1).astype(float)
    if not methods:
        return df
    w = ("between-within: within-participant term, n_participants - p_within (per-participant "
         "slopes)" if random_slopes else
         "between-within: within-participant term, n_obs - n_participants - p_within")
    b = "between-within: participant-level term, n_participants - p_between"
    return df, [w if x else b for x in within]


def adjust_pvalues(p, *, method: str = "fdr_bh"):
    """Multiple-comparison adjustment along the last axis; NaNs are ignored.

    Parameters
    ----------
    p : (..., m) ndarray
        p-values of one family (e.g. all metabolites x scales).
    method : {"fdr_bh", "bonferroni"}
        Benjamini-Hochberg step-up q-values, or Bonferroni ``min(1, m p)``.

    Returns
    -------
    (..., m) ndarray of adjusted p-values (q-values); NaN where ``p`` is NaN.

    Examples
    --------
    >>> adjust_pvalues(np.array([0.01, 0.04, 0.03, 0.5]))
    array([0.04      , 0.05333333, 0.05333333, 0.5       ])
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    flat_p = p.reshape(-1, p.shape[-1]) if p.ndim else p.reshape(1, 1)
    flat_o = out.reshape(flat_p.shape)
    for i, row in enumerate(flat_p):
        ok = np.isfinite(row)
        m = int(ok.sum())
        if m == 0:
            continue
        v = row[ok]
        if method == "bonferroni":
            adj = np.minimum(v * m, 1.0)
        elif method == "fdr_bh":
            order = np.argsort(v)
            ranked = v[order] * m / np.arange(1, m + 1)
            ranked = np.minimum.accumulate(ranked[::-1])[::-1]
            adj = np.empty(m)
            adj[order] = np.minimum(ranked, 1.0)
        else:
            raise ValueError(f"unknown correction {method!r}; use 'fdr_bh' or 'bonferroni'")
        flat_o[i, ok] = adj
    return flat_o.reshape(p.shape)


def mdc95_percent(cv_percent):
    """Minimal detectable change (95 %) from a within-subject test-retest CV.

    ``MDC95 = 1.96 * sqrt(2) * CV``: the smallest change of one participant
    that exceeds measurement error with 95 % confidence.

    Examples
    --------
    >>> round(float(mdc95_percent(5.0)), 3)
    13.859
    """
    return 1.96 * np.sqrt(2.0) * np.asarray(cv_percent, dtype=float)
