"""Prior-dominated estimates (prior_influence > 0.5 in concentrations.tsv) are left out."""
from __future__ import annotations

import numpy as np
import pandas as pd

from mrsquant.app.longitudinal import run_longitudinal
from mrsquant.cli import main
from mrsquant.longitudinal import make_cohort

#: hand-made influences: (participant index, session, metabolite row) -> influence
INFLUENCE = {(0, "pre", "GABA"): 0.8,      # GABA/tCr and Glx/GABA of sub-01 pre
             (1, "post", "tCr"): 0.6,      # every X/tCr of sub-02 post, and tCr (mM)
             (2, "pre", "tNAA"): 0.7,      # tNAA/tCr and tCho/tNAA of sub-03 pre
             (3, "pre", "Glu"): 0.5,       # exactly 0.5: not above the limit, kept
             (4, "post", "NAA"): 0.9}      # a component: tNAA has its own row, so unaffected

EXPECTED = {"tNAA/tCr": 2, "tCho/tCr": 1, "mI/tCr": 1, "Glx/tCr": 1, "Glu/tCr": 1, "Gln/tCr": 1,
            "GABA/tCr": 2, "GSH/tCr": 1, "Tau/tCr": 1, "tCho/tNAA": 1, "Glx/GABA": 1, "tCr": 1}


def _counts(res, table):
    return res.__dict__[table].drop_duplicates("metabolite").set_index("metabolite")[
        "n_prior_dominated"].to_dict()


def test_prior_dominated_values_are_excluded_and_counted():
    c = make_cohort(10, prior_influence=INFLUENCE, seed=50)
    assert "prior_influence" in c.concentrations.columns
    res = run_longitudinal((c.concentrations, c.qc), c.scores, n_boot=200)
    for table in ("tests", "associations", "responders", "mixed"):
        assert _counts(res, table) == EXPECTED, table
    v = res.cohort.data["value"]
    assert np.isnan(v.sel(participant="sub-01", session="ses-pre", measure="GABA/tCr"))
    assert np.isnan(v.sel(participant="sub-01", session="ses-pre", measure="Glx/GABA"))
    assert np.isfinite(v.sel(participant="sub-01", session="ses-pre", measure="Glx/tCr"))
    assert np.isfinite(v.sel(participant="sub-04", session="ses-pre", measure="Glu/tCr"))
    assert np.isfinite(v.sel(participant="sub-05", session="ses-post", measure="tNAA/tCr"))
    # a ratio carries the larger of its numerator's and denominator's influence
    infl = res.cohort.data["prior_influence_measure"]
    assert infl.sel(participant="sub-02", session="ses-post", measure="tCho/tCr") == 0.6
    assert infl.sel(participant="sub-03", session="ses-pre", measure="tCho/tNAA") == 0.7
    # the tests use the other participants: 10 minus those without a change
    t = res.tests.set_index("metabolite")
    assert t.loc["tNAA/tCr", "n"] == 8 and t.loc["Glx/tCr", "n"] == 9
    ex = res.exclusions
    assert ex["reason"].str.startswith("prior-dominated").sum() == sum(EXPECTED.values())
    assert any("prior-dominated" in n for n in res.notes)


def test_limit_is_an_option_and_absent_column_means_no_prior(tmp_path, capsys):
    c = make_cohort(10, prior_influence=INFLUENCE, seed=50)
    res = run_longitudinal((c.concentrations, c.qc), c.scores, n_boot=200,
                           max_prior_influence=0.85)
    # every hand-made influence that matters (0.8, 0.7, 0.6) is <= 0.85: nothing excluded
    assert _counts(res, "tests") == dict.fromkeys(EXPECTED, 0)
    # older result folders: no column -> influence 0, nothing excluded
    old = c.concentrations.drop(columns="prior_influence")
    res = run_longitudinal((old, c.qc), c.scores, n_boot=200)
    assert set(_counts(res, "tests").values()) == {0}
    # the command-line option, through a written results folder
    paths = c.write(tmp_path / "fit")
    out = tmp_path / "out"
    assert main(["longitudinal", "--results", str(tmp_path / "fit"), "--scores",
                 str(paths["scores"]), "-o", str(out), "--no-report", "--n-boot", "200",
                 "--max-prior-influence", "0.65"]) == 0
    tests = pd.read_csv(out / "tests.tsv", sep="\t").set_index("metabolite")
    assert tests.loc["tNAA/tCr", "n_prior_dominated"] == 1      # 0.7 > 0.65, 0.6 is not
    assert tests.loc["GABA/tCr", "n_prior_dominated"] == 1
    assert tests.loc["tCho/tCr", "n_prior_dominated"] == 0
