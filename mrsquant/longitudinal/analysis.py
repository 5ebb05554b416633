"""Change scores and the statistics tables of a longitudinal study.

Each function takes a :class:`~mrsquant.longitudinal.cohort.Cohort` (or the
changes table) and returns a :class:`pandas.DataFrame` with the columns that
the command line writes; the numerics are the vectorised functions of
:mod:`.stats`.
"""
from __future__ import annotations

import re
import warnings
from math import comb

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from . import stats as st
from .cohort import Cohort

__all__ = [
    "DEFAULT_CV_PERCENT", "DEFAULT_REMISSION", "CHANGE_COLUMNS", "TEST_COLUMNS",
    "ASSOCIATION_COLUMNS", "RESPONDER_COLUMNS", "MIXED_COLUMNS", "DEFAULT_MIN_GROUP_N", "cv_for",
    "change_table", "paired_tests", "associations", "responder_tests", "mixed_models",
    "fit_time_model", "mixed_models_long", "long_table", "prior_dominated_counts",
]

#: within-subject test-retest CV (percent) per metabolite, used for MDC95.
#: Rounded, deliberately conservative project defaults in the range reported by
#: 3T test-retest studies (e.g. Terpstra et al. 2016, Magn Reson Med 76:1083, for
#: the short-TE neurochemical profile; Mikkelsen et al. 2017, NeuroImage 159:32,
#: for edited GABA+). Check them against your own protocol and override.
#: The CV of a ratio A/B is taken as sqrt(CV_A^2 + CV_B^2).
DEFAULT_CV_PERCENT = {
    "NAA": 4.0, "tNAA": 4.0, "NAAG": 20.0, "Cr": 5.0, "PCr": 8.0, "tCr": 4.0,
    "GPC": 8.0, "PCh": 15.0, "tCho": 5.0, "Glu": 6.0, "Gln": 15.0, "Glx": 7.0,
    "GABA": 12.0, "GSH": 10.0, "Tau": 15.0, "mI": 6.0, "sI": 25.0, "Lac": 25.0,
    "Asp": 20.0, "PE": 20.0, "Asc": 25.0, "Ala": 30.0, "Glc": 25.0, "Gly": 25.0,
}

#: remission at follow-up: scale -> (operator, threshold)
DEFAULT_REMISSION = {"HAMD17": ("<=", 7.0), "MADRS": ("<=", 10.0), "PHQ9": ("<", 5.0),
                     "BDI-II": ("<=", 13.0), "QIDS-SR16": ("<=", 5.0)}

#: below this many participants in a group, responder comparisons use an exact
#: (or 9999-resample) permutation test of the mean difference instead of Welch's t
DEFAULT_MIN_GROUP_N = 10

CHANGE_COLUMNS = ["participant_id", "metabolite", "baseline", "followup", "delta", "delta_percent",
                  "log_ratio", "score", "score_delta", "responder", "remitter",
                  # extras
                  "session_id", "score_baseline", "score_followup", "mdc95_percent",
                  "exceeds_mdc95", "crlb_abs_baseline", "crlb_abs_followup", "group",
                  "score_delta_percent", "time", "note"]
TEST_COLUMNS = ["metabolite", "n", "mean_delta", "ci_low", "ci_high", "dz", "t_p", "wilcoxon_p",
                "q_fdr", "session_id", "mean_baseline", "sd_delta", "t", "mean_delta_percent",
                "mdc95_percent", "n_exceeding_mdc95", "n_prior_dominated", "correction", "note"]
ASSOCIATION_COLUMNS = ["metabolite", "score", "n", "r_pearson", "ci_low", "ci_high", "p",
                       "r_spearman", "q_fdr", "session_id", "change", "spearman_ci_low",
                       "spearman_ci_high", "spearman_p", "spearman_q_fdr", "slope", "intercept",
                       "n_prior_dominated", "correction", "note"]
RESPONDER_COLUMNS = ["metabolite", "score", "session_id", "n_responders", "n_nonresponders",
                     "mean_delta_responders", "mean_delta_nonresponders", "diff", "ci_low",
                     "ci_high", "hedges_g", "welch_p", "mannwhitney_p", "q_fdr", "test", "p",
                     "n_prior_dominated", "correction", "note"]
MIXED_COLUMNS = ["metabolite", "term", "coef", "se", "ci_low", "ci_high", "z", "df", "df_method",
                 "p", "q_fdr",
                 "n_obs", "n_participants", "formula", "converged", "note", "correction", "model",
                 "n_prior_dominated"]

_OPS = {"<=": np.less_equal, "<": np.less, ">=": np.greater_equal, ">": np.greater}


def cv_for(measure: str, cv_percent=None) -> float:
    """Test-retest CV (percent) of a measure: an explicit entry for the measure,
    else the metabolite CVs combined in quadrature for a ratio ``A/B``."""
    table = dict(DEFAULT_CV_PERCENT)
    if cv_percent:
        table.update(cv_percent)
    if measure in table:
        return float(table[measure])
    parts = measure.split("/")
    if all(p in table for p in parts):
        return float(np.sqrt(sum(table[p] ** 2 for p in parts)))
    return np.nan


def parse_remission(specs) -> dict:
    """``["HAMD17<=7", "MADRS<=10"]`` -> ``{"HAMD17": ("<=", 7.0), ...}``."""
    out = {}
    for spec in specs:
        m = re.fullmatch(r"\s*([A-Za-z0-9_\-]+)\s*(<=|<|>=|>)\s*([-+0-9.eE]+)\s*", spec)
        if not m:
            raise InputError(f"cannot read remission rule {spec!r}; write e.g. 'HAMD17<=7'")
        out[m.group(1)] = (m.group(2), float(m.group(3)))
    return out


# --------------------------------------------------------------------------- changes
def change_table(cohort: Cohort, *, response_fraction: float = 0.5, remission=None,
                 cv_percent=None) -> pd.DataFrame:
    """Per participant, measure, follow-up session and scale: the change from baseline.

    ``delta = followup - baseline``, ``delta_percent = 100 delta / baseline``,
    ``log_ratio = ln(followup / baseline)``; ``score_delta`` likewise for the
    scale; ``responder`` = score reduced by at least ``response_fraction`` of
    its baseline value; ``remitter`` = follow-up score meets the remission
    rule (:data:`DEFAULT_REMISSION`, configurable). A row is written whenever
    the participant has a value at baseline or at follow-up, so missing
    values appear as empty cells (and in the exclusions table), not as
    missing rows.
    """
    rem = dict(DEFAULT_REMISSION)
    if remission:
        rem.update(remission)
    ds = cohort.data
    vals = ds["value"].values                        # (P, S, K)
    cabs = ds["measure_crlb_abs"].values
    parts = ds["participant"].values
    sess = ds["session"].values
    measures = ds["measure"].values
    scales = list(cohort.scales) or [None]
    group = None
    for name in ("cov_group", "cov_treatment"):
        if name in ds:
            g = ds[name].values
            group = np.array([next((v for v in row if v), "") for row in g], dtype=object)
            break
    frames = []
    for j in range(1, len(sess)):
        b, f = vals[:, 0, :], vals[:, j, :]
        present = np.isfinite(b) | np.isfinite(f)
        pi, ki = np.nonzero(present)
        with np.errstate(divide="ignore", invalid="ignore"):
            delta = f - b
            pct = 100.0 * delta / b
            logr = np.log(f / b)
        pct[~np.isfinite(pct)] = np.nan           # baseline 0: percent change undefined
        logr[~np.isfinite(logr)] = np.nan
        mdc = np.array([st.mdc95_percent(cv_for(m, cv_percent)) for m in measures])
        base = pd.DataFrame({
            "participant_id": parts[pi], "metabolite": measures[ki], "baseline": b[pi, ki],
            "followup": f[pi, ki], "delta": delta[pi, ki], "delta_percent": pct[pi, ki],
            "log_ratio": logr[pi, ki], "session_id": sess[j], "mdc95_percent": mdc[ki],
            "crlb_abs_baseline": cabs[pi, 0, ki], "crlb_abs_followup": cabs[pi, j, ki],
            "group": group[pi] if group is not None else "",
            "time": float(ds["time"].values[j]), "note": "",
        })
        base["exceeds_mdc95"] = pd.array(
            np.where(np.isfinite(base["delta_percent"]),
                     np.abs(base["delta_percent"]) > base["mdc95_percent"], np.nan)
            .astype(object), dtype="boolean")
        base.loc[~np.isfinite(base["delta_percent"]), "exceeds_mdc95"] = pd.NA
        for scale in scales:
            frames.append(_score_columns(base.copy(), ds, scale, pi, j, response_fraction, rem))
    if not frames:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    out = pd.concat(frames, ignore_index=True)[CHANGE_COLUMNS]
    order = {m: i for i, m in enumerate(measures)}
    sorder = {s: i for i, s in enumerate(sess)}
    pord = {p: i for i, p in enumerate(parts)}
    key = pd.DataFrame({"m": out["metabolite"].map(order), "s": out["session_id"].map(sorder),
                        "c": out["score"], "p": out["participant_id"].map(pord)})
    idx = key.sort_values(["m", "s", "c", "p"], kind="stable").index
    return out.loc[idx].reset_index(drop=True)


def _score_columns(df, ds, scale, pi, j, response_fraction, rem):
    """Score columns of one change-table block: baseline/follow-up score, its change,
    responder and remitter (NA where undefined, with a note for a baseline score of 0)."""
    if scale is None:
        df["score"] = ""
        for c in ("score_baseline", "score_followup", "score_delta", "score_delta_percent"):
            df[c] = np.nan
        df["responder"] = pd.array([pd.NA] * len(df), dtype="boolean")
        df["remitter"] = pd.array([pd.NA] * len(df), dtype="boolean")
    else:
        s = ds[f"score_{scale}"].values
        s0, s1 = s[pi, 0], s[pi, j]
        df["score"] = scale
        df["score_baseline"], df["score_followup"] = s0, s1
        df["score_delta"] = s1 - s0
        with np.errstate(divide="ignore", invalid="ignore"):
            reduction = (s0 - s1) / s0
        ok = np.isfinite(reduction) & (s0 > 0)
        df["score_delta_percent"] = np.where(ok, -100.0 * reduction, np.nan)
        zero = np.isfinite(s1) & (s0 == 0)
        df.loc[zero, "note"] = (f"{scale} baseline 0: percent change and response "
                                "undefined (NA)")
        df["responder"] = pd.array(np.where(ok, reduction >= response_fraction - 1e-12,
                                            False), dtype="boolean")
        df.loc[~ok, "responder"] = pd.NA
        if scale in rem:
            op, thr = rem[scale]
            df["remitter"] = pd.array(_OPS[op](np.nan_to_num(s1, nan=np.inf), thr),
                                      dtype="boolean")
            df.loc[~np.isfinite(s1), "remitter"] = pd.NA
        else:
            df["remitter"] = pd.array([pd.NA] * len(df), dtype="boolean")
    return df


def _per_participant(changes: pd.DataFrame) -> pd.DataFrame:
    """One row per (participant, measure, session): drop the per-scale copies."""
    return changes.drop_duplicates(["participant_id", "metabolite", "session_id"])


# --------------------------------------------------------------------------- tests
def paired_tests(changes: pd.DataFrame, *, correction: str = "fdr_bh",
                 confidence: float = 0.95) -> pd.DataFrame:
    """Paired t-test, Wilcoxon signed-rank, Cohen's dz and CI of the mean change.

    One row per measure and follow-up session, over participants with both
    values; ``q_fdr`` adjusts ``t_p`` across all rows (``correction``
    ``fdr_bh`` or ``bonferroni``).
    """
    per = _per_participant(changes)
    rows = []
    for (meas, ses), g in per.groupby(["metabolite", "session_id"], sort=False):
        d = g["delta"].to_numpy(float)
        ok = np.isfinite(d)
        d = d[ok]
        row = {"metabolite": meas, "session_id": ses, "n": int(d.size)}
        if d.size >= 2:
            s = st.paired_summary(d, confidence=confidence)
            row.update(mean_delta=float(s["mean"]), ci_low=float(s["ci_low"]),
                       ci_high=float(s["ci_high"]), dz=float(s["dz"]), t=float(s["t"]),
                       t_p=float(s["p"]), sd_delta=float(s["sd"]),
                       wilcoxon_p=float(st.wilcoxon_p(d)))
        else:
            row["note"] = f"{d.size} complete pair(s): not tested"
        row["mean_baseline"] = float(np.mean(g["baseline"].to_numpy(float)[ok])) if d.size else np.nan
        pct = g["delta_percent"].to_numpy(float)[ok]
        row["mean_delta_percent"] = float(np.mean(pct)) if pct.size else np.nan
        row["mdc95_percent"] = float(g["mdc95_percent"].iloc[0])
        row["n_exceeding_mdc95"] = int(np.sum(np.abs(pct) > row["mdc95_percent"]))
        rows.append(row)
    out = pd.DataFrame(rows, columns=TEST_COLUMNS)
    out["q_fdr"] = st.adjust_pvalues(out["t_p"].to_numpy(float), method=correction) \
        if len(out) else []
    out["correction"] = correction
    return out


def associations(changes: pd.DataFrame, *, change: str = "delta", correction: str = "fdr_bh",
                 n_boot: int = 2000, seed: int = 0, confidence: float = 0.95) -> pd.DataFrame:
    """Pearson and Spearman correlation of measure change with score change.

    One row per measure, scale and follow-up session (complete cases);
    ``ci_low``/``ci_high`` are BCa bootstrap intervals of Pearson r
    (``n_boot`` resamples, ``seed``); ``q_fdr`` adjusts the Pearson p-values
    across all measures and scales.
    """
    if change not in ("delta", "delta_percent", "log_ratio"):
        raise ValueError(f"change must be delta, delta_percent or log_ratio, not {change!r}")
    rows = []
    scored = changes[changes["score"].astype(str) != ""]
    for (meas, scale, ses), g in scored.groupby(["metabolite", "score", "session_id"], sort=False):
        x = g[change].to_numpy(float)
        y = g["score_delta"].to_numpy(float)
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = x[ok], y[ok]
        row = {"metabolite": meas, "score": scale, "session_id": ses, "n": int(x.size),
               "change": change}
        if x.size >= 4 and np.ptp(x) > 0 and np.ptp(y) > 0:
            r, p = st.pearson(x, y)
            rs, ps = st.spearman(x, y)
            lo, hi = st.bootstrap_corr_ci(x, y, method="pearson", n_boot=n_boot,
                                          confidence=confidence, seed=seed)
            slo, shi = st.bootstrap_corr_ci(x, y, method="spearman", n_boot=n_boot,
                                            confidence=confidence, seed=seed)
            slope, intercept = np.polyfit(x, y, 1)
            row.update(r_pearson=float(r), p=float(p), ci_low=float(lo), ci_high=float(hi),
                       r_spearman=float(rs), spearman_p=float(ps), spearman_ci_low=float(slo),
                       spearman_ci_high=float(shi), slope=float(slope), intercept=float(intercept))
        elif x.size < 4:
            row["note"] = f"{x.size} complete pair(s): at least 4 needed"
        else:
            row["note"] = "no variation in one of the changes"
        rows.append(row)
    out = pd.DataFrame(rows, columns=ASSOCIATION_COLUMNS)
    if len(out):
        out["q_fdr"] = st.adjust_pvalues(out["p"].to_numpy(float), method=correction)
        out["spearman_q_fdr"] = st.adjust_pvalues(out["spearman_p"].to_numpy(float),
                                                  method=correction)
    out["correction"] = correction
    return out


def _permutation_p(a, b, *, seed: int = 0) -> tuple[float, str]:
    """Two-sided permutation p-value of ``mean(a) - mean(b)``: exact over every split
    when there are at most 9999, else 9999 random splits (``seed``)."""

    n_splits = comb(a.size + b.size, a.size)
    res = stats.permutation_test((a, b), lambda x, y, axis: np.mean(x, axis=axis)
                                 - np.mean(y, axis=axis), permutation_type="independent",
                                 vectorized=True, n_resamples=9999, alternative="two-sided",
                                 random_state=seed)
    kind = (f"permutation (exact, {n_splits} splits)" if n_splits <= 9999
            else "permutation (9999 random splits)")
    return float(res.pvalue), kind


def responder_tests(changes: pd.DataFrame, *, by: str = "responder", correction: str = "fdr_bh",
                    confidence: float = 0.95, min_group_n: int = DEFAULT_MIN_GROUP_N,
                    seed: int = 0) -> pd.DataFrame:
    """Measure change in responders vs non-responders.

    ``by`` is ``responder`` or ``remitter``; ``diff`` = mean change of the
    responders minus that of the non-responders. With at least
    ``min_group_n`` participants in both groups: Welch t (p, CI) and
    Mann-Whitney U; below it, Welch's t is not trusted (its type-I error
    reaches ~9 % with 2 per group) and ``p`` comes from a permutation test of
    the mean difference (``scipy.stats.permutation_test``, exact when the
    splits are few), without a CI. The ``test`` column and ``note`` say which;
    ``q_fdr`` adjusts ``p``.
    """
    rows = []
    scored = changes[changes["score"].astype(str) != ""]
    for (meas, scale, ses), g in scored.groupby(["metabolite", "score", "session_id"], sort=False):
        d = g["delta"].to_numpy(float)
        flag = g[by]
        ok = np.isfinite(d) & flag.notna().to_numpy()
        resp = flag.fillna(False).to_numpy(bool)
        a, b = d[ok & resp], d[ok & ~resp]
        row = {"metabolite": meas, "score": scale, "session_id": ses,
               "n_responders": int(a.size), "n_nonresponders": int(b.size),
               "mean_delta_responders": float(a.mean()) if a.size else np.nan,
               "mean_delta_nonresponders": float(b.mean()) if b.size else np.nan,
               "mannwhitney_p": st.mannwhitney_p(a, b)}
        if min(a.size, b.size) >= max(min_group_n, 2):
            w = st.welch(a, b, confidence=confidence)
            row.update(diff=w["diff"], ci_low=w["ci_low"], ci_high=w["ci_high"],
                       hedges_g=w["hedges_g"], welch_p=w["p"], p=w["p"], test="welch", note="")
        elif min(a.size, b.size) >= 2:
            p, kind = _permutation_p(a, b, seed=seed)
            w = st.welch(a, b, confidence=confidence)
            row.update(diff=float(a.mean() - b.mean()), hedges_g=w["hedges_g"], p=p, test=kind,
                       note=f"fewer than {min_group_n} in a group ({a.size} vs {b.size}): "
                       f"{kind} instead of Welch t, no CI")
        else:
            row.update(test="none", note=f"{a.size} vs {b.size} participants: not tested")
        rows.append(row)
    out = pd.DataFrame(rows, columns=RESPONDER_COLUMNS)
    if len(out):
        out["q_fdr"] = st.adjust_pvalues(out["p"].to_numpy(float), method=correction)
    out["correction"] = correction
    return out


# --------------------------------------------------------------------------- mixed models
def long_table(cohort: Cohort) -> pd.DataFrame:
    """Cohort as a long table: one row per participant, session and measure with a value."""
    ds = cohort.data
    P, S, K = ds["value"].shape
    pi, si, ki = np.meshgrid(np.arange(P), np.arange(S), np.arange(K), indexing="ij")
    df = pd.DataFrame({"participant_id": ds["participant"].values[pi.ravel()],
                       "session_id": ds["session"].values[si.ravel()],
                       "measure": ds["measure"].values[ki.ravel()],
                       "time": ds["time"].values[si.ravel()],
                       "value": ds["value"].values.ravel()})
    for name in ds.data_vars:
        if name.startswith(("cov_", "score_")) and ds[name].dims == ("participant", "session"):
            df[name[4:] if name.startswith("cov_") else name] = \
                ds[name].values[pi.ravel(), si.ravel()]
    return df[np.isfinite(df["value"])].reset_index(drop=True)


def _participant_constant(df, col):
    """Fill a participant-level covariate (age, sex, group) from any of its sessions."""
    s = df[col].replace("", np.nan)
    return s.groupby(df["participant_id"]).transform(lambda v: v.ffill().bfill())


_MODEL_RI = "MixedLM, random intercept"
_MODEL_RS = "MixedLM, random intercept + slope (time)"
_MODEL_GEE = "GEE exchangeable, bias-reduced sandwich SE"


def fit_time_model(g: pd.DataFrame, formula: str, *, random_slope: bool,
                   confidence: float = 0.95) -> tuple[list, str, bool, str]:
    """Fit ``formula`` to one measure's long table ``g`` (column ``participant_id``).

    ``random_slope=True`` fits statsmodels MixedLM with ``re_formula="~time"``
    (REML); when it fails to converge it falls back to GEE with an
    exchangeable working correlation and the bias-reduced (Mancl-DeRouen)
    sandwich covariance, which stays valid when slopes differ between
    participants, and the note says why. ``random_slope=False`` fits a random
    intercept only (right for two visits, where a slope variance is not
    identifiable). Wald statistics are compared with t on between-within df
    (:func:`~mrsquant.longitudinal.stats.between_within_df`; with random or
    sandwich slopes a within term gets participants-based df).

    Returns
    -------
    rows : list of dict (term, coef, se, ci_low, ci_high, z, df, df_method, p)
    model : str
        Which model gave the numbers.
    converged : bool
    note : str
    """
    import statsmodels.api as sm  # lazy: heavy
    import statsmodels.formula.api as smf  # lazy: heavy

    alpha = 1.0 - confidence
    msgs: list[str] = []

    def rows_from(names, coef, se, tvals, exog, groups, slopes):
        df_all, how = st.between_within_df(exog, groups, random_slopes=slopes, methods=True)
        dfs, hows = dict(zip(names, df_all)), dict(zip(names, how))
        out = []
        for term in names:
            c, e, d = float(coef[term]), float(se[term]), dfs[term]
            half = stats.t.ppf(1 - alpha / 2, d) * e
            out.append({"term": term, "coef": c, "se": e, "ci_low": c - half, "ci_high": c + half,
                        "z": float(tvals[term]), "df": d, "df_method": hows[term],
                        "p": float(2 * stats.t.sf(abs(tvals[term]), d))})
        return out

    def fit_mixed(re_formula):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = smf.mixedlm(formula, g, groups=g["participant_id"], re_formula=re_formula)
            res = model.fit(reml=True)
        # statsmodels tries bfgs, then lbfgs, then cg and warns on each optimizer that
        # fails; only the final state counts: converged, finite SEs, a positive
        # definite Hessian (an intermediate "failed to converge" is not a failure)
        fail = sorted({str(w.message).split("\n")[0][:80] for w in caught
                       if "not positive definite" in str(w.message).lower()})
        if not bool(getattr(res, "converged", True)):
            fail.append("optimizer did not converge (bfgs, lbfgs, cg)")
        if not np.all(np.isfinite(np.asarray(res.bse_fe))):
            fail.append("non-finite standard errors")
        return model, res, not fail, fail

    if random_slope:
        try:
            model, res, ok, fail = fit_mixed("~time")
        except (np.linalg.LinAlgError, ValueError) as exc:
            ok, fail = False, [f"fit error: {exc}"[:80]]
        if ok:
            cre = np.asarray(res.cov_re)
            if cre[1, 1] <= 1e-6 * (cre[1, 1] + float(res.scale)):
                msgs.append("slope variance ~0 (boundary)")
            rows = rows_from(list(res.fe_params.index), res.fe_params, res.bse_fe, res.tvalues,
                             model.exog, model.groups, True)
            return rows, _MODEL_RS, True, "; ".join(msgs)
        msgs.append(f"random slopes did not converge ({'; '.join(fail) or 'not converged'}): "
                    "GEE fallback")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gee = smf.gee(formula, groups=g["participant_id"], data=g,
                          cov_struct=sm.cov_struct.Exchangeable())
            res = gee.fit(cov_type="bias_reduced")
        names = list(res.params.index)
        rows = rows_from(names, res.params, res.bse, res.tvalues, gee.exog, gee.groups, True)
        return rows, _MODEL_GEE, True, "; ".join(msgs)

    model, res, ok, fail = fit_mixed(None)
    msgs.extend(fail)
    # statsmodels' "MLE may be on the boundary" uses an absolute threshold (0.01) on
    # the random-effect variance, meaningless for ratios ~1: judge it relative instead
    var_re = float(np.asarray(res.cov_re)[0, 0])
    if var_re <= 1e-3 * (var_re + float(res.scale)):
        msgs.append("random-intercept variance ~0 (boundary)")
    rows = rows_from(list(res.fe_params.index), res.fe_params, res.bse_fe, res.tvalues,
                     model.exog, model.groups, False)
    return rows, _MODEL_RI, ok, "; ".join(msgs)


def mixed_models(cohort: Cohort, *, group: str | None = "auto", covariates=(),
                 correction: str = "fdr_bh", confidence: float = 0.95,
                 random_slopes: str | bool = "auto") -> pd.DataFrame:
    """Linear model of each measure over visits: ``value ~ time [* C(group)] + covariates``.

    statsmodels MixedLM (REML) with a random intercept per participant and,
    with three or more distinct visit times (``random_slopes="auto"``), a
    random slope of time (``re_formula="~time"``): with heterogeneous
    slopes, an intercept-only model's time effect has inflated type-I error
    (8-12 % at alpha 0.05, benchmarks/bench_longitudinal.py). A random-slope
    fit that does not converge falls back to GEE with a sandwich covariance
    (:func:`fit_time_model`); the ``model`` and ``note`` columns say which.

    Uses every usable spectrum, so participants with one visit or a missing
    session still contribute. ``group="auto"`` uses a ``group`` (or
    ``treatment``) column with at least two levels; ``None`` leaves it out.
    ``q_fdr`` adjusts each term's p-values across measures.
    """
    return mixed_models_long(long_table(cohort), group=group, covariates=covariates,
                             correction=correction, confidence=confidence,
                             random_slopes=random_slopes)


def mixed_models_long(df: pd.DataFrame, *, group: str | None = "auto", covariates=(),
                      correction: str = "fdr_bh", confidence: float = 0.95,
                      random_slopes: str | bool = "auto") -> pd.DataFrame:
    """:func:`mixed_models` on a long table (columns ``participant_id, session_id, measure,
    time, value`` and the covariates; :func:`long_table`), e.g. a simulated study."""
    df = df.copy()
    cols = set(df.columns)
    gcol = None
    if group == "auto":
        for cand in ("group", "treatment"):
            if cand in cols:
                gcol = cand
                break
    elif group:
        if group not in cols:
            raise InputError(f"group column {group!r} not in the scores table")
        gcol = group
    if gcol is not None:
        df[gcol] = _participant_constant(df, gcol)
        if df[gcol].dropna().nunique() < 2:
            gcol = None
    rhs = "time" + (f" * C({gcol})" if gcol else "")
    for c in covariates:
        if c not in cols:
            raise InputError(f"covariate {c!r} not in the scores table (have "
                             f"{', '.join(sorted(cols - {'value', 'measure'}))})")
        df[c] = _participant_constant(df, c)
        rhs += f" + {c}" if pd.api.types.is_numeric_dtype(df[c]) else f" + C({c})"
    formula = f"value ~ {rhs}"
    rows = []
    for meas, g in df.groupby("measure", sort=False):
        need = ["value", "time"] + ([gcol] if gcol else []) + list(covariates)
        g = g.dropna(subset=need)
        base = {"metabolite": meas, "n_obs": len(g), "n_participants": g["participant_id"].nunique(),
                "formula": formula}
        if g["session_id"].nunique() < 2 or base["n_participants"] < 3:
            rows.append({**base, "term": "", "converged": False,
                         "note": "too few sessions or participants"})
            continue
        slope = (g["time"].nunique() >= 3) if random_slopes == "auto" else bool(random_slopes)
        try:
            fitted, model, conv, note = fit_time_model(g, formula, random_slope=slope,
                                                       confidence=confidence)
        except (np.linalg.LinAlgError, ValueError) as exc:
            rows.append({**base, "term": "", "converged": False, "note": f"fit failed: {exc}"[:120]})
            continue
        rows.extend({**base, **r, "converged": conv, "note": note, "model": model} for r in fitted)
    out = pd.DataFrame(rows, columns=MIXED_COLUMNS)
    out["q_fdr"] = np.nan
    for term, idx in out.groupby("term").groups.items():
        if term and term != "Intercept":
            out.loc[idx, "q_fdr"] = st.adjust_pvalues(out.loc[idx, "p"].to_numpy(float),
                                                      method=correction)
    out["correction"] = correction
    return out


def prior_dominated_counts(cohort: Cohort) -> dict:
    """Per measure, how many values were left out as prior-dominated."""
    ex = cohort.exclusions
    hit = ex[ex["reason"].astype(str).str.startswith("prior-dominated")]
    counts = hit.groupby("measure").size().to_dict()
    return {m: int(counts.get(m, 0)) for m in cohort.measures}
