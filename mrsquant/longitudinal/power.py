"""Sample size and power of a longitudinal MRS study (paired or multi-visit design).

Model: a measure with between-participant CV ``cv`` (percent of its mean) at each
visit and correlation ``r`` between any two visits of one participant (compound
symmetry), visits equally spaced at ``t = 0 .. k-1``, a true change of
``effect`` percent from the first to the last visit, linear in between. The
analysis is the per-participant slope (least squares over the visits) tested
with a one-sample t-test on ``n - 1`` df, the test the random-slope mixed model
reduces to with complete data and, for two visits, the paired t-test. The change
estimated per participant, ``(k - 1) * slope``, then has SD

``sd_change = (k - 1) cv sqrt((1 - r) / Sxx)``, ``Sxx = sum (t - mean t)^2``

(``cv sqrt(2 (1 - r))`` for two visits), plus ``slope_sd`` (percent over the study)
when participants' true changes differ. Power is that of the noncentral t with
noncentrality ``sqrt(n) effect / sd_change``. Dropout: ``n`` is the number of
completers; ``n_enrol = ceil(n / (1 - dropout))`` (conservative for a mixed
model, which also uses the visits of those who drop out).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["sd_change_percent", "power", "sample_size"]


def sd_change_percent(cv_percent: float, r: float, visits: int = 2, *,
                      slope_sd_percent: float = 0.0) -> float:
    """SD (percent of the mean) of one participant's estimated first-to-last change."""
    if visits < 2:
        raise ValueError("at least 2 visits")
    if not -1.0 < r < 1.0:
        raise ValueError("the correlation between visits must be in (-1, 1)")
    t = np.arange(visits, dtype=float)
    sxx = float(np.sum((t - t.mean()) ** 2))
    sd = (visits - 1) * cv_percent * math.sqrt((1.0 - r) / sxx)
    return math.sqrt(sd ** 2 + slope_sd_percent ** 2)


def power(n: int, effect_percent: float, cv_percent: float, r: float, *, visits: int = 2,
          alpha: float = 0.05, slope_sd_percent: float = 0.0) -> float:
    """Two-sided power of the time effect with ``n`` completers.

    Examples
    --------
    >>> round(power(15, 5.0, 8.0, 0.7), 3)
    0.828
    """
    if n < 2:
        return 0.0
    sd = sd_change_percent(cv_percent, r, visits, slope_sd_percent=slope_sd_percent)
    nc = math.sqrt(n) * effect_percent / sd
    df = n - 1
    tc = stats.t.ppf(1 - alpha / 2, df)
    return float(stats.nct.sf(tc, df, nc) + stats.nct.cdf(-tc, df, nc))


def sample_size(effect_percent: float, cv_percent: float, r: float, *, visits: int = 2,
                dropout: float = 0.0, target_power: float = 0.8, alpha: float = 0.05,
                slope_sd_percent: float = 0.0, n_max: int = 100000) -> dict:
    """Smallest number of completers with at least ``target_power``, and the enrolment.

    Returns
    -------
    dict with ``n_completers``, ``n_enrol``, ``power`` (at ``n_completers``),
    ``sd_change_percent`` and ``dz`` (effect / SD of the change).
    """
    if not 0.0 <= dropout < 1.0:
        raise ValueError("dropout must be in [0, 1)")
    if effect_percent == 0:
        raise ValueError("the effect must not be 0")
    sd = sd_change_percent(cv_percent, r, visits, slope_sd_percent=slope_sd_percent)
    kw = dict(visits=visits, alpha=alpha, slope_sd_percent=slope_sd_percent)
    # normal approximation as the start, then step
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(target_power)
    n = max(2, int(math.ceil((z * sd / abs(effect_percent)) ** 2)))
    while n > 2 and power(n - 1, effect_percent, cv_percent, r, **kw) >= target_power:
        n -= 1
    while power(n, effect_percent, cv_percent, r, **kw) < target_power:
        n += 1
        if n > n_max:
            raise ValueError(f"more than {n_max} participants needed")
    return {"n_completers": n, "n_enrol": int(math.ceil(n / (1.0 - dropout) - 1e-9)),
            "power": power(n, effect_percent, cv_percent, r, **kw),
            "sd_change_percent": sd, "dz": abs(effect_percent) / sd}
