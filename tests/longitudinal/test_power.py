"""`mrsquant longitudinal power` against simulated studies (power within 5 points)."""
from __future__ import annotations

import numpy as np
import pytest

from mrsquant.cli import main
from mrsquant.longitudinal import stats as st
from mrsquant.longitudinal.power import power, sample_size

R = 4000          # simulated studies per design: Monte-Carlo SE of a power of 0.8 is 0.6 %


def _simulate(rng, n_enrol, visits, effect, cv, r, dropout, slope_sd=0.0):
    """Studies with compound-symmetric visits (between-participant CV ``cv`` %, correlation
    ``r``), a linear true change of ``effect`` % first to last, random dropout; returns the
    per-study p-value of the paired t-test (2 visits) or the slope t-test of the completers."""
    t = np.arange(visits, dtype=float)
    cov = (cv / 100) ** 2 * (r + (1 - r) * np.eye(visits))
    p = np.empty(R)
    for k in range(R):
        y = rng.multivariate_normal(np.zeros(visits), cov, size=n_enrol) + 1.0
        true = effect / 100 + slope_sd / 100 * rng.standard_normal(n_enrol)
        y += true[:, None] * t / (visits - 1)
        y = y[rng.random(n_enrol) >= dropout]                     # completers
        tc = t - t.mean()
        change = (visits - 1) * (y @ tc) / np.sum(tc ** 2)          # per-participant slope
        p[k] = st.paired_summary(change)["p"]
    return p


@pytest.mark.parametrize("visits,effect,cv,r,dropout,slope_sd", [
    (2, 5.0, 8.0, 0.7, 0.1, 0.0),
    (4, 4.0, 10.0, 0.6, 0.2, 2.0),
])
def test_power_agrees_with_simulation(visits, effect, cv, r, dropout, slope_sd):
    rng = np.random.default_rng(visits)
    out = sample_size(effect, cv, r, visits=visits, dropout=dropout, slope_sd_percent=slope_sd)
    assert out["power"] >= 0.8 > power(out["n_completers"] - 1, effect, cv, r, visits=visits,
                                       slope_sd_percent=slope_sd)
    p = _simulate(rng, out["n_enrol"], visits, effect, cv, r, dropout, slope_sd)
    simulated = np.mean(p < 0.05)
    # enrolment covers the dropout: the simulated power is at least the target, minus 5 points
    assert simulated >= 0.8 - 0.05, simulated
    # at a fixed number of completers the formula and the simulation agree within 5 points
    p0 = _simulate(rng, out["n_completers"], visits, effect, cv, r, 0.0, slope_sd)
    assert abs(np.mean(p0 < 0.05) - out["power"]) < 0.05, (np.mean(p0 < 0.05), out["power"])


def test_power_is_alpha_without_an_effect():
    assert abs(power(20, 1e-12, 8.0, 0.5) - 0.05) < 1e-9


def test_cli_power(capsys):
    rc = main(["longitudinal", "power", "--effect", "5", "--cv", "8", "--visit-corr", "0.7",
               "--dropout", "0.1"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "completers needed: 15" in out and "enrol: 17" in out
    rc = main(["longitudinal", "power", "--effect", "5", "--cv", "8", "--visit-corr", "1.2"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "--visit-corr" in err
