"""Error rates on simulated cohorts with known truth (500 replicates, vectorised).

Monte-Carlo SE of a 95 % coverage over 500 replicates is ~1 %; the bands
93-97 % (coverage) and 3.5-6.5 % (false positives) are those of the issue.
The larger runs (and other n) are in benchmarks/bench_longitudinal.py.
"""
from __future__ import annotations

import numpy as np

from mrsquant.longitudinal import stats as st
from mrsquant.longitudinal.synthetic import simulate_changes

R = 500


def test_mean_change_ci_coverage():
    sim = simulate_changes(R, 20, mean_change=0.05, sd_change=0.08, seed=11)
    out = st.paired_summary(sim["followup"] - sim["baseline"])
    cover = np.mean((out["ci_low"] <= 0.05) & (0.05 <= out["ci_high"]))
    assert 0.93 <= cover <= 0.97, cover


def test_correlation_bootstrap_ci_coverage():
    rho = -0.5
    sim = simulate_changes(R, 20, mean_change=0.05, sd_change=0.08, rho=rho, seed=12)
    lo, hi = st.bootstrap_corr_ci(sim["followup"] - sim["baseline"], sim["score_delta"],
                                  n_boot=2000, seed=1)
    cover = np.mean((lo <= rho) & (rho <= hi))
    assert 0.93 <= cover <= 0.97, cover


def test_false_positive_rate_under_null():
    # 500 studies x 10 independent null metabolites = 5000 tests per method
    sim = simulate_changes(R, 20, mean_change=0.0, sd_change=0.08, rho=0.0, n_measures=10,
                           seed=13)
    d = sim["followup"] - sim["baseline"]
    score = np.broadcast_to(sim["score_delta"][:, None, :], d.shape)
    rates = {
        "t": np.mean(st.paired_summary(d)["p"] < 0.05),
        "wilcoxon": np.mean(st.wilcoxon_p(d) < 0.05),
        "pearson": np.mean(st.pearson(d, score)[1] < 0.05),
        "spearman": np.mean(st.spearman(d, score)[1] < 0.05),
    }
    for name, rate in rates.items():
        assert 0.035 <= rate <= 0.065, (name, rate)


def test_fdr_controlled_across_10_metabolites_under_null():
    sim = simulate_changes(R, 20, mean_change=0.0, sd_change=0.08, n_measures=10, seed=14)
    p = st.paired_summary(sim["followup"] - sim["baseline"])["p"]      # (R, 10)
    q = st.adjust_pvalues(p)
    # under the complete null every rejection is false: FDR = P(any q < 0.05)
    fdr = np.mean((q < 0.05).any(axis=1))
    assert fdr <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / R), fdr
    # without correction the familywise error would be ~40 %
    assert np.mean((p < 0.05).any(axis=1)) > 0.3


def test_fdr_controlled_with_some_true_effects():
    rng = np.random.default_rng(15)
    null = simulate_changes(R, 20, mean_change=0.0, sd_change=0.08, n_measures=5, seed=16)
    alt = simulate_changes(R, 20, mean_change=0.06, sd_change=0.08, n_measures=5,
                           seed=int(rng.integers(1 << 30)))
    d = np.concatenate([null["followup"] - null["baseline"], alt["followup"] - alt["baseline"]],
                       axis=1)
    q = st.adjust_pvalues(st.paired_summary(d)["p"])
    rej = q < 0.05
    false = rej[:, :5].sum(axis=1)
    fdp = np.where(rej.sum(axis=1) > 0, false / np.maximum(rej.sum(axis=1), 1), 0.0)
    assert fdp.mean() <= 0.05, fdp.mean()
    assert rej[:, 5:].mean() > 0.5          # and the true effects are found
