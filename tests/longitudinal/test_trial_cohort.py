"""The issue-18 cohort check: 200 participants x 2 visits whose only true change is
tNAA/tCr (+5 %, correlated with the HAMD-17 change), analysed with the defaults."""
from __future__ import annotations

from mrsquant.app.longitudinal import run_longitudinal
from mrsquant.longitudinal import DEFAULT_MEASURES, make_cohort

#: tNAA/tCr at baseline is 1.35 + 0.15 = 1.5 in the generator, so +0.075 is +5 %
EFFECTS = {"NAA": {"mean": 0.075, "sd": 0.10, "rho": -0.8}}


def test_200x2_cohort_default_run():
    c = make_cohort(200, effects=EFFECTS, seed=18)
    truth = c.truth.set_index("measure")
    assert truth.loc["tNAA/tCr", "mean_change"] == 0.075
    res = run_longitudinal((c.concentrations, c.qc), c.scores, n_boot=500)
    assert res.cohort.measures == DEFAULT_MEASURES        # every default formed, tCr in mM too
    t = res.tests.set_index("metabolite")
    row = t.loc["tNAA/tCr"]
    assert row["n"] == 200
    assert row["ci_low"] <= 0.075 <= row["ci_high"], (row["ci_low"], row["ci_high"])
    assert row["q_fdr"] < 1e-6
    a = res.associations.set_index(["metabolite", "score"])
    r = a.loc[("tNAA/tCr", "HAMD17"), "r_pearson"]
    assert -0.75 <= r <= -0.45, r
    # and the generator's truth for that correlation lies in the band as well
    assert -0.75 <= truth.loc["tNAA/tCr", "r_HAMD17"] <= -0.45
    for meas in ("tCho/tCr", "Glx/tCr", "mI/tCr", "GABA/tCr", "GSH/tCr"):
        assert t.loc[meas, "q_fdr"] >= 0.01, (meas, t.loc[meas, "q_fdr"])
        assert a.loc[(meas, "HAMD17"), "q_fdr"] >= 0.01, meas
    # two visits: random intercept (a slope variance is not identifiable)
    mx = res.mixed[(res.mixed["metabolite"] == "tNAA/tCr") & (res.mixed["term"] == "time")]
    assert mx["model"].iloc[0] == "MixedLM, random intercept"
    assert mx["ci_low"].iloc[0] <= 0.075 <= mx["ci_high"].iloc[0]
