"""Small-sample df of the mixed model (between-within) against the paired t-test."""
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from mrsquant.longitudinal import stats as st


def test_between_within_df_counts():
    groups = np.repeat(np.arange(5), 3)                    # 5 participants x 3 visits
    time = np.tile([0.0, 1.0, 2.0], 5)
    group = np.repeat([0.0, 0.0, 1.0, 1.0, 1.0], 3)        # between-participant
    exog = np.column_stack([np.ones(15), time, group, time * group])
    df = st.between_within_df(exog, groups)
    # within: time, time*group (2) -> 15 - 5 - 2 = 8; between: intercept, group (2) -> 5 - 2 = 3
    assert df.tolist() == [3.0, 8.0, 3.0, 8.0]


def test_two_visits_equal_the_paired_t_test():
    """Balanced pre/post with a random intercept: REML time effect and SE equal the paired
    mean difference and its SE, so with n - 1 df the p-value is the paired t-test's."""
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(3)
    n = 20
    base = 1.4 + 0.1 * rng.standard_normal(n)
    pre = base + 0.03 * rng.standard_normal(n)
    post = base + 0.01 + 0.03 * rng.standard_normal(n)
    df = pd.DataFrame({"value": np.r_[pre, post], "time": np.r_[np.zeros(n), np.ones(n)],
                       "pid": np.r_[np.arange(n), np.arange(n)]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = smf.mixedlm("value ~ time", df, groups=df["pid"])
        res = model.fit(reml=True)
    dfs = dict(zip(model.exog_names, st.between_within_df(model.exog, model.groups)))
    assert dfs["time"] == n - 1
    p_mixed = 2 * stats.t.sf(abs(res.tvalues["time"]), dfs["time"])
    p_paired = stats.ttest_rel(post, pre).pvalue
    assert abs(p_mixed - p_paired) < 1e-4 * max(p_paired, 1e-3)


def test_between_within_methods_name_the_rule_per_term():
    groups = np.repeat(np.arange(6), 2)                    # 6 participants x 2 visits
    time = np.tile([0.0, 1.0], 6)
    exog = np.column_stack([np.ones(12), time])
    df, how = st.between_within_df(exog, groups, methods=True)
    assert df.tolist() == [5.0, 5.0]                       # 6 - 1; 12 - 6 - 1
    assert how[0].startswith("between-within: participant-level")
    assert how[1] == "between-within: within-participant term, n_obs - n_participants - p_within"
    df_s, how_s = st.between_within_df(exog, groups, random_slopes=True, methods=True)
    assert df_s.tolist() == [5.0, 5.0] and "per-participant slopes" in how_s[1]


def test_mixed_table_reports_the_df_and_its_method():
    """12 participants, 2 visits, 2 follow-ups missing: the random-intercept time effect has
    n_obs - n_participants - 1 = 22 - 12 - 1 = 9 df (the paired t of the 10 complete pairs)."""
    from mrsquant.longitudinal.analysis import mixed_models_long

    rng = np.random.default_rng(8)
    n = 12
    base = 1.0 + 0.1 * rng.standard_normal(n)
    rows = [{"participant_id": f"p{i}", "session_id": f"s{t}", "measure": "NAA/tCr",
             "time": float(t), "value": base[i] + 0.03 * rng.standard_normal()}
            for i in range(n) for t in (0, 1) if not (t == 1 and i < 2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = mixed_models_long(pd.DataFrame(rows), group=None).set_index("term")
    assert out.loc["time", "df"] == 9.0 and out.loc["Intercept", "df"] == 11.0
    assert out.loc["time", "df_method"].startswith("between-within: within-participant")
    t = out.loc["time", "coef"] / out.loc["time", "se"]
    assert np.isclose(out.loc["time", "p"], 2 * stats.t.sf(abs(t), 9))
