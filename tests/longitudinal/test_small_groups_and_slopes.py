"""Responder comparisons below the minimum group size; the mixed model's random-slope choice."""
from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from mrsquant.longitudinal.analysis import mixed_models_long, responder_tests
from mrsquant.longitudinal.synthetic import simulate_visits


def _changes(a, b):
    d = np.r_[a, b]
    return pd.DataFrame({"metabolite": "NAA/tCr", "score": "HAMD17", "session_id": "ses-post",
                         "delta": d, "responder": pd.array([True] * len(a) + [False] * len(b),
                                                           dtype="boolean"),
                         "participant_id": [f"sub-{i:02d}" for i in range(len(d))]})


def test_small_groups_use_an_exact_permutation_test():
    a = np.array([0.11, 0.02, 0.09])
    b = np.array([-0.01, 0.03, 0.00, -0.04])
    out = responder_tests(_changes(a, b), min_group_n=10).iloc[0]
    assert out["test"] == "permutation (exact, 35 splits)"
    assert "fewer than 10 in a group (3 vs 4)" in out["note"]
    assert np.isnan(out["welch_p"]) and np.isnan(out["ci_low"])
    # independent truth: enumerate all 35 splits of the 7 values; two-sided p = twice the
    # smaller tail (scipy's definition, the splits being asymmetric for 3 vs 4)
    d = np.r_[a, b]
    obs = a.mean() - b.mean()
    diffs = np.array([d[list(s)].mean() - np.delete(d, list(s)).mean()
                      for s in combinations(range(7), 3)])
    p_exact = min(1.0, 2 * min(np.mean(diffs >= obs - 1e-12), np.mean(diffs <= obs + 1e-12)))
    assert abs(out["p"] - p_exact) < 1e-12
    # with enough participants per group: Welch t
    rng = np.random.default_rng(3)
    big = responder_tests(_changes(rng.normal(0.05, 0.05, 12), rng.normal(0, 0.05, 11)),
                          min_group_n=10).iloc[0]
    assert big["test"] == "welch" and np.isfinite(big["ci_low"])


def _long(sim, r):
    v = sim["value"][r]
    pid, tt = np.nonzero(np.isfinite(v))
    return pd.DataFrame({"participant_id": pid.astype(str), "session_id": tt.astype(str),
                         "measure": "X/tCr", "time": sim["time"][tt], "value": v[pid, tt]})


def test_random_slopes_with_three_visits_intercept_only_with_two():
    three = mixed_models_long(_long(simulate_visits(1, 20, 3, slope_sd=0.03, seed=5), 0),
                              group=None)
    row = three[three["term"] == "time"].iloc[0]
    assert row["model"] in ("MixedLM, random intercept + slope (time)",
                            "GEE exchangeable, bias-reduced sandwich SE")
    assert row["df"] == 19                   # participants-based df of a random slope
    two = mixed_models_long(_long(simulate_visits(1, 20, 2, seed=5), 0), group=None)
    row2 = two[two["term"] == "time"].iloc[0]
    assert row2["model"] == "MixedLM, random intercept"
    forced = mixed_models_long(_long(simulate_visits(1, 20, 3, seed=5), 0), group=None,
                               random_slopes=False)
    assert forced.loc[forced["term"] == "time", "model"].iloc[0] == "MixedLM, random intercept"


def test_random_slope_time_effect_recovers_a_known_mean_slope():
    # 30 simulated studies with a mean slope of 0.05 per visit: CI coverage of the truth
    sim = simulate_visits(30, 25, 4, mean_slope=0.05, slope_sd=0.03, seed=6)
    hits = 0
    for r in range(30):
        row = mixed_models_long(_long(sim, r), group=None).query("term == 'time'").iloc[0]
        hits += row["ci_low"] <= 0.05 <= row["ci_high"]
    assert hits >= 25                        # 95 % nominal: P(hits < 25) ~ 0.4 %
