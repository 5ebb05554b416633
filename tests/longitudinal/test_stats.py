"""Statistics agree with scipy/statsmodels called directly on the same numbers (1e-10)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from mrsquant.longitudinal import stats as st

TOL = 1e-10


@pytest.fixture
def paired():
    rng = np.random.default_rng(42)
    pre = rng.normal(1.4, 0.1, 23)
    post = pre + rng.normal(0.03, 0.05, 23)
    score = rng.normal(-8, 6, 23) - 40 * (post - pre)
    return pre, post, score


def test_paired_t_matches_scipy(paired):
    pre, post, _ = paired
    d = post - pre
    out = st.paired_summary(d)
    ref = stats.ttest_rel(post, pre)
    assert abs(out["t"] - ref.statistic) < TOL
    assert abs(out["p"] - ref.pvalue) < TOL
    ci = ref.confidence_interval(0.95)
    assert abs(out["ci_low"] - ci.low) < TOL and abs(out["ci_high"] - ci.high) < TOL
    assert abs(out["dz"] - d.mean() / d.std(ddof=1)) < TOL


def test_paired_batched_equals_single(paired):
    pre, post, _ = paired
    d = np.stack([post - pre, pre - post, 2 * (post - pre)])
    out = st.paired_summary(d)
    for k in range(3):
        ref = stats.ttest_1samp(d[k], 0.0)
        assert abs(out["p"][k] - ref.pvalue) < TOL


def test_wilcoxon_matches_scipy(paired):
    pre, post, _ = paired
    assert abs(st.wilcoxon_p(post - pre) - stats.wilcoxon(post, pre).pvalue) < TOL
    assert np.isnan(st.wilcoxon_p(np.zeros(5)))


def test_pearson_spearman_match_scipy(paired):
    pre, post, score = paired
    d = post - pre
    r, p = st.pearson(d, score)
    ref = stats.pearsonr(d, score)
    assert abs(r - ref.statistic) < TOL and abs(p - ref.pvalue) < TOL
    rs, ps = st.spearman(d, score)
    ref = stats.spearmanr(d, score)
    assert abs(rs - ref.statistic) < TOL and abs(ps - ref.pvalue) < TOL


def test_spearman_with_ties_matches_scipy():
    x = np.array([1, 2, 2, 3, 4, 4, 4, 5, 6, 7], float)
    y = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3], float)
    rs, ps = st.spearman(x, y)
    ref = stats.spearmanr(x, y)
    assert abs(rs - ref.statistic) < TOL and abs(ps - ref.pvalue) < TOL


def test_welch_and_mannwhitney_match_scipy():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.1, 1, 9), rng.normal(-0.4, 2, 14)
    w = st.welch(a, b)
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert abs(w["t"] - ref.statistic) < TOL and abs(w["p"] - ref.pvalue) < TOL
    ci = ref.confidence_interval(0.95)
    assert abs(w["ci_low"] - ci.low) < TOL and abs(w["ci_high"] - ci.high) < TOL
    assert abs(st.mannwhitney_p(a, b) - stats.mannwhitneyu(a, b).pvalue) < TOL


@pytest.mark.parametrize("method", ["fdr_bh", "bonferroni"])
def test_adjust_matches_statsmodels(method):
    p = np.random.default_rng(3).uniform(0, 0.2, 17)
    ours = st.adjust_pvalues(p, method=method)
    ref = multipletests(p, method=method)[1]
    assert np.max(np.abs(ours - ref)) < TOL


def test_adjust_ignores_nan():
    p = np.array([0.01, np.nan, 0.04, 0.03])
    ours = st.adjust_pvalues(p)
    ref = multipletests(p[[0, 2, 3]], method="fdr_bh")[1]
    assert np.isnan(ours[1]) and np.max(np.abs(ours[[0, 2, 3]] - ref)) < TOL


def test_mdc95_formula():
    assert st.mdc95_percent(10.0) == pytest.approx(1.96 * np.sqrt(2) * 10.0, abs=TOL)


def test_bootstrap_ci_is_seeded_and_brackets_estimate(paired):
    pre, post, score = paired
    d = post - pre
    a = st.bootstrap_corr_ci(d, score, seed=5)
    b = st.bootstrap_corr_ci(d, score, seed=5)
    assert a == b
    r = stats.pearsonr(d, score).statistic
    assert a[0] < r < a[1]
    lo, hi = st.bootstrap_corr_ci(d, score, method="spearman", seed=5)
    assert lo < stats.spearmanr(d, score).statistic < hi


def test_bootstrap_pearson_matches_explicit_resampling():
    """The count-matrix shortcut gives the same bootstrap replicates as resampling."""
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=15), rng.normal(size=15)
    idx = np.random.default_rng(0).integers(0, 15, size=(200, 15))
    explicit = np.array([stats.pearsonr(x[i], y[i]).statistic for i in idx])
    counts = np.zeros((200, 15))
    np.add.at(counts, (np.arange(200)[:, None], idx), 1.0)
    xc, yc = x - x.mean(), y - y.mean()
    ours = st._pearson_from_sums(15.0, counts @ xc, counts @ yc, counts @ xc ** 2,
                                 counts @ yc ** 2, counts @ (xc * yc))
    assert np.max(np.abs(ours - explicit)) < 1e-10
