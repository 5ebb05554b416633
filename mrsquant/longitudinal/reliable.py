"""Reliable change of one participant: does a change exceed measurement error?

The measured change of participant ``i`` between baseline and follow-up is
``d_i = true change + e_1 - e_0``; each visit's error has two parts:

* the fit's own noise, known per spectrum from its Cramer-Rao bound
  (``crlb_abs``; for a ratio the first-order combination of numerator and
  denominator, :mod:`.cohort`);
* between-session variability the fit cannot see (voxel repositioning,
  shimming, physiology), with variance ``s_session^2``, the same for everyone.

Test-retest scans measure the sum: their within-subject variance
``wSD^2 = var(d_retest) / 2`` is ``s_session^2 + mean CRLB^2`` of those scans, so
``s_session^2 = max(0, wSD^2 - mean CRLB^2)``. When the study has no repeat
scans, ``wSD`` comes from a literature test-retest CV
(:data:`~mrsquant.longitudinal.analysis.DEFAULT_CV_PERCENT`, cited there) times
the cohort's baseline mean, and the study's own CRLBs are subtracted the same
way. The reliable-change index (Jacobson & Truax 1991, J Consult Clin Psychol
59:12, with the per-participant error of each visit) is

``RCI_i = d_i / sqrt(crlb_0i^2 + crlb_1i^2 + 2 s_session^2)``

and ``|RCI|`` above the two-sided critical value is a reliable change: under no
true change it fires with probability ``alpha`` when the error model holds.

With a literature CV the error model is taken as known: ``s_session^2 =
max(0, wSD^2 - mean CRLB^2)`` (a study noisier than the literature's is not given
less than its own fit noise) and the critical value is normal (1.96 at alpha 0.05).

With repeat scans the error model is an estimate, and the denominator is built so
that ``RCI`` stays a Student-t pivot. The ``m`` centred repeat differences give
``V = 2 wSD^2``, an unbiased estimate of the variance of a change for a scan pair
with the retest scans' mean CRLB, ``V_r = 2 s_session^2 + 2 crlb_rms^2``, with
``(m - 1) V / V_r ~ chi^2_(m-1)`` (exact when the pairs' CRLBs are equal). The
variance of participant ``i``'s change is ``V_r w_i`` with the ratio
``w_i = (crlb_0i^2 + crlb_1i^2 + 2 s_session^2) / (2 crlb_rms^2 + 2 s_session^2)``,
so ``se_i^2 = V w_i`` (``w_i`` with ``s_session^2`` truncated at 0) and
``RCI_i = d_i / se_i ~ t_(m-1)``: the sampling error of ``V`` enters at first
order, that of ``w_i`` only through a ratio whose derivative in ``s_session^2``
is proportional to ``2 crlb_rms^2 - crlb_0i^2 - crlb_1i^2`` (0 for a participant
with the retest's mean CRLB). When ``wSD^2 >= crlb_rms^2`` this is exactly
``crlb_0i^2 + crlb_1i^2 + 2 s_session^2``; below it, it is
``(crlb_0i^2 + crlb_1i^2) wSD^2 / crlb_rms^2`` instead of the floor
``crlb_0i^2 + crlb_1i^2``. That floor (``s_session^2`` truncated at 0 inside the
denominator) was the cause of a conservative false-positive rate: with CRLBs of
8-25 % against a 4 % session SD and 20 pairs, ``wSD^2 < crlb_rms^2`` in 30-50 % of
retest sets, the truncated estimate is biased upwards, and 3.2-4.0 % instead of
5 % of unchanged participants were flagged (on Satterthwaite df; the df were not
the cause: ~``m - 1`` there too). The ratio form flags 4.8 % with CRLBs 3x the session SD
(tests/longitudinal/test_reliable.py; the floor 3.2-3.4 %) and 5.0-5.3 % in the
combined Monte Carlo (docs/benchmarks.md, clinical-mc), and is never negative (the untruncated
``crlb_0i^2 + crlb_1i^2 + 2 (wSD^2 - crlb_rms^2)`` is unbiased too but goes below 0
for 0.1 % of participants). The normal 1.96 instead of t would flag 6.3 % with
30 pairs.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

from .analysis import cv_for

__all__ = ["RETEST_COLUMNS", "RELIABLE_COLUMNS", "retest_table", "reliable_change",
           "rci_critical"]

RETEST_COLUMNS = ["metabolite", "n_pairs", "mean", "wsd", "cv_percent", "crlb_rms",
                  "sd_session", "df", "source"]
RELIABLE_COLUMNS = ["participant_id", "metabolite", "session_id", "delta", "se_change",
                    "sd_session", "rci", "df", "critical", "reliable_change", "cv_source"]


def retest_table(values, crlb_abs, measures) -> pd.DataFrame:
    """Within-subject SD and between-session SD of each measure from repeat scans.

    Parameters
    ----------
    values, crlb_abs : (n_participants, 2, n_measures) ndarrays
        The two scans of each participant (NaN = missing) and their absolute CRLBs.
    measures : sequence of str

    Returns
    -------
    DataFrame with :data:`RETEST_COLUMNS`: ``wsd = sqrt(var(d) / 2)`` (ddof 1) over the
    ``n`` complete pairs (``d`` = scan 2 - scan 1, centred on its mean so that a
    systematic scan-order difference is not counted as noise), ``crlb_rms`` the RMS
    CRLB of those scans, ``sd_session = sqrt(max(0, wsd^2 - crlb_rms^2))``.
    """
    v = np.asarray(values, float)
    c = np.asarray(crlb_abs, float)
    rows = []
    for k, meas in enumerate(measures):
        ok = np.isfinite(v[:, 0, k]) & np.isfinite(v[:, 1, k])
        n = int(ok.sum())
        if n < 3:
            rows.append({"metabolite": meas, "n_pairs": n, "source": "retest (too few pairs)"})
            continue
        d = v[ok, 1, k] - v[ok, 0, k]
        wsd = float(np.sqrt(np.sum((d - d.mean()) ** 2) / (2.0 * (n - 1))))
        mean = float(np.mean(v[ok, :, k]))
        cc = c[ok][:, :, k]
        crlb_rms = float(np.sqrt(np.nanmean(cc ** 2))) if np.isfinite(cc).any() else 0.0
        rows.append({"metabolite": meas, "n_pairs": n, "mean": mean, "wsd": wsd,
                     "cv_percent": 100.0 * wsd / abs(mean) if mean else np.nan,
                     "crlb_rms": crlb_rms,
                     "sd_session": float(np.sqrt(max(0.0, wsd ** 2 - crlb_rms ** 2))),
                     "df": float(n - 1), "source": f"retest ({n} pairs)"})
    return pd.DataFrame(rows, columns=RETEST_COLUMNS)


def rci_critical(df, confidence: float = 0.95) -> np.ndarray:
    """Two-sided critical value of ``|RCI|``: Student t on ``df`` (``n_pairs - 1`` of a
    retest estimate), normal where ``df`` is infinite (a literature CV)."""
    df = np.asarray(df, float)
    q = 0.5 + confidence / 2.0
    return np.where(np.isinf(df), special.ndtri(q), stats.t.ppf(q, np.where(np.isinf(df), 1.0, df)))


def _se_change(k, s_sess, wsd, crlb_rms, *, estimated):
    """SD of one participant's change (module docstring): ``k`` = its two CRLBs squared and
    summed. ``estimated`` (retest): ``2 wSD^2 w_i``; else ``k + 2 s_session^2``."""
    known = np.sqrt(k + 2.0 * s_sess ** 2)
    ref = 2.0 * crlb_rms ** 2 + 2.0 * s_sess ** 2          # V_r / (its estimate 2 wSD^2)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.sqrt(2.0 * wsd ** 2 * (k + 2.0 * s_sess ** 2) / ref)
    return np.where(estimated & (ref > 0) & np.isfinite(ratio), ratio, known)


def _literature_table(changes: pd.DataFrame, cv_percent=None) -> pd.DataFrame:
    """The same table from literature CVs and the study's baseline values and CRLBs."""

    rows = []
    for meas, g in changes.drop_duplicates(["participant_id", "metabolite"]).groupby(
            "metabolite", sort=False):
        b = g["baseline"].to_numpy(float)
        cb = g["crlb_abs_baseline"].to_numpy(float)
        mean = float(np.nanmean(b)) if np.isfinite(b).any() else np.nan
        cv = cv_for(meas, cv_percent)
        wsd = abs(mean) * cv / 100.0
        crlb_rms = float(np.sqrt(np.nanmean(cb ** 2))) if np.isfinite(cb).any() else 0.0
        given = bool(cv_percent) and (meas in cv_percent
                                      or all(p in cv_percent for p in meas.split("/")))
        rows.append({"metabolite": meas, "n_pairs": 0, "mean": mean, "wsd": wsd,
                     "cv_percent": cv, "crlb_rms": crlb_rms,
                     "sd_session": float(np.sqrt(max(0.0, wsd ** 2 - crlb_rms ** 2)))
                     if np.isfinite(wsd) else np.nan, "df": np.inf,
                     "source": "--cv value" if given else
                     "literature CV (DEFAULT_CV_PERCENT: Terpstra 2016, Mikkelsen 2017)"})
    return pd.DataFrame(rows, columns=RETEST_COLUMNS)


def reliable_change(changes: pd.DataFrame, *, retest: pd.DataFrame | None = None,
                    cv_percent=None, confidence: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reliable-change index of every participant's change (one row per participant,
    measure and follow-up session).

    Parameters
    ----------
    changes : DataFrame
        :func:`~mrsquant.longitudinal.analysis.change_table` (``delta``,
        ``crlb_abs_baseline``, ``crlb_abs_followup``).
    retest : DataFrame or None
        :func:`retest_table` of the study's repeat scans; measures it lacks (or with
        fewer than 3 pairs) use the literature CV.
    cv_percent : dict or None
        CVs overriding the literature defaults (``--cv``).
    confidence : float
        ``|RCI|`` above the two-sided critical value at this level is a reliable change
        (default 0.95: 1.96 with a literature CV, t on ``n_pairs - 1`` df with a retest).

    Returns
    -------
    reliable : DataFrame with :data:`RELIABLE_COLUMNS` (``reliable_change`` is
        ``increase``, ``decrease``, ``none``, or empty when the change is missing)
    error_model : DataFrame with :data:`RETEST_COLUMNS`, one row per measure: where the
        between-session SD came from
    """
    per = changes.drop_duplicates(["participant_id", "metabolite", "session_id"])
    lit = _literature_table(per, cv_percent)
    model = lit.set_index("metabolite")
    if retest is not None and len(retest):
        good = retest[retest["wsd"].notna()].set_index("metabolite")
        for meas in good.index.intersection(model.index):
            model.loc[meas] = good.loc[meas, RETEST_COLUMNS[1:]]
    model = model.reset_index()[RETEST_COLUMNS]
    s_sess = per["metabolite"].map(model.set_index("metabolite")["sd_session"]).to_numpy(float)
    source = per["metabolite"].map(model.set_index("metabolite")["source"]).fillna("")
    c0 = np.nan_to_num(per["crlb_abs_baseline"].to_numpy(float), nan=0.0)
    c1 = np.nan_to_num(per["crlb_abs_followup"].to_numpy(float), nan=0.0)
    by = model.set_index("metabolite")
    wsd = per["metabolite"].map(by["wsd"]).to_numpy(float)
    crms = np.nan_to_num(per["metabolite"].map(by["crlb_rms"]).to_numpy(float), nan=0.0)
    df = per["metabolite"].map(by["df"]).to_numpy(float)
    df = np.where(np.isfinite(df), np.maximum(df, 1.0), np.inf)
    se = _se_change(c0 ** 2 + c1 ** 2, s_sess, wsd, crms, estimated=np.isfinite(df))
    d = per["delta"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rci = np.where(se > 0, d / se, np.nan)
    crit = rci_critical(df, confidence)
    flag = np.where(~np.isfinite(rci), "", np.where(rci > crit, "increase",
                                                    np.where(rci < -crit, "decrease", "none")))
    out = pd.DataFrame({"participant_id": per["participant_id"].to_numpy(),
                        "metabolite": per["metabolite"].to_numpy(),
                        "session_id": per["session_id"].to_numpy(), "delta": d,
                        "se_change": np.where(np.isfinite(d), se, np.nan), "sd_session": s_sess,
                        "rci": rci, "df": df, "critical": crit, "reliable_change": flag, "cv_source": source.to_numpy()})
    return out[RELIABLE_COLUMNS], model
