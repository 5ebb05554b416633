"""Reliable-change index against simulated truth: error model known, false-positive rate nominal."""
from __future__ import annotations

import numpy as np
import pandas as pd

from mrsquant.longitudinal.reliable import reliable_change, retest_table

MU, S_SESSION = 1.5, 0.04


def _visits(rng, n, crlb):
    """n participants x 2 visits: between-participant spread, session noise and fit noise
    with a per-spectrum CRLB (heterogeneous: 0.5x-2x ``crlb``), no true change."""
    base = MU * (1 + 0.08 * rng.standard_normal(n))
    c = crlb * rng.uniform(0.5, 2.0, (n, 2))
    y = base[:, None] + S_SESSION * rng.standard_normal((n, 2)) + c * rng.standard_normal((n, 2))
    return y, c


def _changes(y, c, delta_true=0.0):
    n = y.shape[0]
    return pd.DataFrame({"participant_id": [f"sub-{i:04d}" for i in range(n)],
                         "metabolite": "tNAA/tCr", "session_id": "ses-post",
                         "baseline": y[:, 0], "followup": y[:, 1] + delta_true,
                         "delta": y[:, 1] + delta_true - y[:, 0],
                         "crlb_abs_baseline": c[:, 0], "crlb_abs_followup": c[:, 1]})


def test_retest_recovers_the_session_sd():
    rng = np.random.default_rng(1)
    y, c = _visits(rng, 4000, 0.03)
    tab = retest_table(y[:, :, None], c[:, :, None], ["tNAA/tCr"]).iloc[0]
    # truth: wSD^2 = s_session^2 + E[crlb^2]; E[u^2] for u ~ U(0.5, 2) is 1.75
    assert abs(tab["wsd"] - np.sqrt(S_SESSION ** 2 + 1.75 * 0.03 ** 2)) < 0.002
    assert abs(tab["sd_session"] - S_SESSION) < 0.004
    assert tab["n_pairs"] == 4000


def test_rci_false_positive_rate_is_nominal_with_retest_scans():
    # 400 simulated studies, each with its own 30 repeat-scan pairs (the session SD is
    # estimated per study) and 30 participants without a true change
    rng = np.random.default_rng(2)
    flagged, total = 0, 0
    for _ in range(400):
        y_rt, c_rt = _visits(rng, 30, 0.03)
        retest = retest_table(y_rt[:, :, None], c_rt[:, :, None], ["tNAA/tCr"])
        y, c = _visits(rng, 30, 0.03)
        rel, model = reliable_change(_changes(y, c), retest=retest)
        flagged += int(np.sum(rel["reliable_change"] != "none"))
        total += len(rel)
    rate = flagged / total                                    # 12000 changes, MC SE 0.2 %
    assert 0.04 <= rate <= 0.06, rate                         # issue: within 1 point of 5 %
    assert model.iloc[0]["source"] == "retest (30 pairs)"


def test_rci_with_the_true_error_model_is_exact_and_finds_real_changes():
    rng = np.random.default_rng(3)
    y, c = _visits(rng, 20000, 0.03)
    wsd = np.sqrt(S_SESSION ** 2 + 1.75 * 0.03 ** 2)
    # literature CV equal to the truth: then only the Monte-Carlo error remains
    cv = {"tNAA/tCr": 100 * wsd / MU}
    rel, model = reliable_change(_changes(y, c), cv_percent=cv)
    rate = np.mean(rel["reliable_change"] != "none")
    assert abs(rate - 0.05) < 0.006, rate                     # MC SE 0.15 %
    assert model.iloc[0]["source"] == "--cv value"
    # ignoring the session variance (CRLBs only) would flag far more than 5 %
    naive = np.abs(_changes(y, c)["delta"]) / np.hypot(c[:, 0], c[:, 1]) > 1.96
    assert naive.mean() > 0.15
    # a true change of 4 SE is found in most participants, with its sign
    big, _ = reliable_change(_changes(y, c, delta_true=4 * np.sqrt(2) * wsd), cv_percent=cv)
    assert np.mean(big["reliable_change"] == "increase") > 0.9


def test_literature_cv_is_used_without_retest():
    rng = np.random.default_rng(4)
    y, c = _visits(rng, 50, 0.03)
    rel, model = reliable_change(_changes(y, c))
    row = model.iloc[0]
    assert row["source"].startswith("literature CV")
    # DEFAULT_CV_PERCENT: tNAA 4 %, tCr 4 %, ratio sqrt(32) %
    assert abs(row["cv_percent"] - np.sqrt(32.0)) < 1e-9
    assert abs(row["wsd"] - abs(row["mean"]) * np.sqrt(32.0) / 100) < 1e-12
    assert set(rel["reliable_change"]) <= {"increase", "decrease", "none"}
