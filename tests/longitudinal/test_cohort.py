"""Cohort assembly, change scores and reporting of everything left out."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from mrsquant.app.longitudinal import run_longitudinal
from mrsquant.errors import InputError
from mrsquant.longitudinal import QCRules, assemble_cohort, make_cohort, parse_entities
from mrsquant.longitudinal.cohort import order_sessions


def _raw_ratio(conc, num, den="tCr"):
    """NAA/tCr etc. straight from the concentrations table (independent of the module)."""
    w = conc.pivot(index="spectrum", columns="metabolite", values="amplitude")
    return w[num] / w[den]


def test_parse_entities():
    assert parse_entities("sub-07_ses-w8_acq-press_svs.nii.gz") == {
        "sub": "07", "ses": "w8", "acq": "press"}
    assert parse_entities("patient3_visit2") == {}


def test_order_sessions():
    assert order_sessions(["ses-post", "ses-pre"]) == ["ses-pre", "ses-post"]
    assert order_sessions(["ses-10", "ses-2", "ses-1"]) == ["ses-1", "ses-2", "ses-10"]
    assert order_sessions(["ses-a", "ses-b"], times={"ses-a": 4, "ses-b": 0}) == ["ses-b", "ses-a"]
    assert order_sessions(["ses-1", "ses-2"], baseline="2") == ["ses-2", "ses-1"]
    with pytest.raises(InputError, match="time order"):
        order_sessions(["ses-left", "ses-right"])


def test_changes_against_raw_tables():
    c = make_cohort(10, seed=3)
    res = run_longitudinal((c.concentrations, c.qc), c.scores, n_boot=200)
    ch = res.changes
    ratio = _raw_ratio(c.concentrations, "tNAA")
    row = ch[(ch["participant_id"] == "sub-04") & (ch["metabolite"] == "tNAA/tCr")
             & (ch["score"] == "HAMD17")].iloc[0]
    pre, post = ratio["sub-04_ses-pre_svs"], ratio["sub-04_ses-post_svs"]
    assert row["baseline"] == pytest.approx(pre, rel=1e-12)
    assert row["delta"] == pytest.approx(post - pre, rel=1e-10)
    assert row["delta_percent"] == pytest.approx(100 * (post - pre) / pre, rel=1e-10)
    assert row["log_ratio"] == pytest.approx(np.log(post / pre), rel=1e-10)
    sc = c.scores.set_index(["participant_id", "session_id"])["HAMD17"]
    h0, h1 = sc[("sub-04", "ses-pre")], sc[("sub-04", "ses-post")]
    assert row["score_delta"] == h1 - h0
    assert bool(row["responder"]) == ((h0 - h1) / h0 >= 0.5)
    assert bool(row["remitter"]) == (h1 <= 7)
    # tests.tsv numbers = scipy on the same deltas (computed from the raw table)
    d = np.array([ratio[f"sub-{i:02d}_ses-post_svs"] - ratio[f"sub-{i:02d}_ses-pre_svs"]
                  for i in range(1, 11)])
    t = res.tests.set_index("metabolite").loc["tNAA/tCr"]
    ref = stats.ttest_1samp(d, 0.0)
    assert abs(t["t_p"] - ref.pvalue) < 1e-10
    assert abs(t["mean_delta"] - d.mean()) < 1e-10
    assert abs(t["wilcoxon_p"] - stats.wilcoxon(d).pvalue) < 1e-10
    assert abs(t["dz"] - d.mean() / d.std(ddof=1)) < 1e-10
    hd = np.array([sc[(f"sub-{i:02d}", "ses-post")] - sc[(f"sub-{i:02d}", "ses-pre")]
                   for i in range(1, 11)])
    a = res.associations.set_index(["metabolite", "score"]).loc[("tNAA/tCr", "HAMD17")]
    assert abs(a["r_pearson"] - stats.pearsonr(d, hd).statistic) < 1e-10
    assert abs(a["p"] - stats.pearsonr(d, hd).pvalue) < 1e-10
    assert abs(a["r_spearman"] - stats.spearmanr(d, hd).statistic) < 1e-10


def test_remission_and_response_are_configurable():
    c = make_cohort(12, seed=4)
    res = run_longitudinal((c.concentrations, c.qc), c.scores, n_boot=200,
                           response_fraction=0.3, remission={"HAMD17": ("<=", 12.0)})
    ch = res.changes[(res.changes["score"] == "HAMD17")].drop_duplicates("participant_id")
    red = (ch["score_baseline"] - ch["score_followup"]) / ch["score_baseline"]
    assert (ch["responder"].astype(bool) == (red >= 0.3)).all()
    assert (ch["remitter"].astype(bool) == (ch["score_followup"] <= 12)).all()


def test_mixed_model_matches_statsmodels_directly():
    c = make_cohort(14, sessions=("w0", "w4", "w8"), missing=[(2, "w4"), (5, "w8")], seed=5)
    res = run_longitudinal((c.concentrations, c.qc), c.scores, n_boot=200, group=None,
                           allow_unmatched=True, random_slopes=False, measures=["NAA/tCr"])
    # the same model, built from the raw tables
    ratio = _raw_ratio(c.concentrations, "NAA").rename("value").reset_index()
    ent = ratio["spectrum"].str.extract(r"sub-(\d+)_ses-w(\d+)_")
    ratio["participant_id"] = "sub-" + ent[0]
    ratio["time"] = ent[1].map({"0": 0.0, "4": 1.0, "8": 2.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # statsmodels' absolute boundary heuristic
        fit = smf.mixedlm("value ~ time", ratio, groups=ratio["participant_id"]).fit(reml=True)
    mx = res.mixed[res.mixed["metabolite"] == "NAA/tCr"].set_index("term")
    for term in ("Intercept", "time"):
        assert abs(mx.loc[term, "coef"] - fit.fe_params[term]) < 1e-10
        assert abs(mx.loc[term, "se"] - fit.bse_fe[term]) < 1e-10
        assert abs(mx.loc[term, "z"] - fit.tvalues[term]) < 1e-8
    # p from t with between-within df: time varies within participants (40 obs, 14 participants,
    # 1 within term -> 25 df); the intercept is a between term (14 - 1 = 13 df)
    assert mx.loc["time", "df"] == 40 - 14 - 1 and mx.loc["Intercept", "df"] == 13
    from scipy import stats
    for term in ("Intercept", "time"):
        p_t = 2 * stats.t.sf(abs(fit.tvalues[term]), mx.loc[term, "df"])
        assert abs(mx.loc[term, "p"] - p_t) < 1e-10
        assert mx.loc[term, "p"] >= fit.pvalues[term]          # never more liberal than the z-test
    assert mx.loc["time", "n_obs"] == len(ratio) == 14 * 3 - 2


def test_edge_cases_are_reported_not_dropped():
    c = make_cohort(12, failed=[(0, "post")], missing=[(1, "pre")],
                    missing_scores=[(2, "post", "HAMD17")], status={(3, "pre"): "low SNR"},
                    seed=6)
    # a participant with one visit only, and scores without any spectrum
    extra = pd.DataFrame([{"participant_id": "sub-99", "session_id": "ses-pre", "HAMD17": 20}])
    scores = pd.concat([c.scores, extra], ignore_index=True)
    conc = c.concentrations[c.concentrations["spectrum"] != "sub-05_ses-post_svs"]
    qc = c.qc[c.qc["spectrum"] != "sub-05_ses-post_svs"]
    res = run_longitudinal((conc, qc), scores, n_boot=200, allow_unmatched=True)
    ex = res.exclusions

    def has(pid, text):
        rows = ex[ex["participant_id"] == pid]
        return rows["reason"].str.contains(text, regex=False).any()

    assert has("sub-01", "failed")
    assert has("sub-02", "baseline not acquired")
    assert has("sub-03", "HAMD17 missing")
    assert has("sub-04", "low SNR")
    assert has("sub-05", "only one usable session")
    assert has("sub-99", "scores but no spectra")
    t = res.tests.set_index("metabolite").loc["tNAA/tCr"]
    assert t["n"] == 12 - 4                      # sub-01, 02, 04, 05 have no change
    a = res.associations.set_index(["metabolite", "score"])
    assert a.loc[("tNAA/tCr", "HAMD17"), "n"] == 12 - 5   # and sub-03 has no HAMD17 change
    assert a.loc[("tNAA/tCr", "MADRS"), "n"] == 12 - 4
    # every participant with data still has rows in changes.tsv
    assert {"sub-01", "sub-02", "sub-04", "sub-05"} <= set(res.changes["participant_id"])
    # the mixed model uses every usable spectrum, including one-visit participants
    mx = res.mixed[(res.mixed["metabolite"] == "tNAA/tCr") & (res.mixed["term"] == "time")]
    assert int(mx["n_obs"].iloc[0]) == 24 - 4    # failed, missing, low SNR, dropped row


def test_sessions_table_for_non_bids_names(tmp_path):
    c = make_cohort(6, seed=7)
    ren = {f"sub-{i:02d}_ses-{s}_svs": f"scan{i}{s}" for i in range(1, 7) for s in ("pre", "post")}
    conc = c.concentrations.assign(spectrum=c.concentrations["spectrum"].map(ren))
    qc = c.qc.assign(spectrum=c.qc["spectrum"].map(ren))
    table = pd.DataFrame([{"spectrum": v + ".nii.gz", "participant_id": k[4:6],
                           "session_id": k.split("_")[1][4:]} for k, v in ren.items()])
    co = assemble_cohort((conc, qc), c.scores, sessions=table)
    assert co.data.sizes["participant"] == 6 and co.sessions == ("ses-pre", "ses-post")
    assert co.data["included"].values.all()
    # without the table nothing can be assigned: a clear error
    with pytest.raises(InputError, match="sub-<label>"):
        assemble_cohort((conc, qc), c.scores)


def test_baseline_option_and_duplicates():
    c = make_cohort(6, seed=8)
    co = assemble_cohort((c.concentrations, c.qc), c.scores, baseline="post")
    assert co.baseline == "ses-post"
    dup = c.concentrations.copy()
    dup2 = dup.assign(spectrum=dup["spectrum"].str.replace("_svs", "_acq-b_svs"))
    with pytest.raises(InputError, match="--match"):
        assemble_cohort((pd.concat([dup, dup2]), c.qc), c.scores)
    co = assemble_cohort((pd.concat([dup, dup2]), c.qc), c.scores, match="acq-b")
    assert co.data.sizes["participant"] == 6


def test_low_concentration_metabolites_not_dropped_on_relative_crlb():
    c = make_cohort(8, seed=9)
    co = assemble_cohort((c.concentrations, c.qc), c.scores,
                         rules=QCRules(max_crlb_percent=5.0))
    ds = co.data
    # GABA (CRLB ~20 %) is kept and flagged with its absolute CRLB; tCho/tCr (~7 %) is not
    assert np.isfinite(ds["value"].sel(measure="GABA/tCr").values).all()
    flagged = co.exclusions[co.exclusions["measure"] == "GABA/tCr"]
    assert (flagged["action"] == "kept").all() and len(flagged) == 16
    assert flagged["reason"].str.contains("absolute CRLB").all()
    assert np.isnan(ds["value"].sel(measure="tCho/tCr").values).any()


def test_bad_score_cell_tissue_fractions_and_concentration_measure():
    c = make_cohort(6, seed=10)
    scores = c.scores.astype({"HAMD17": object})
    scores.loc[0, "HAMD17"] = "n/a"            # BIDS missing value: allowed, not a refusal
    table = pd.DataFrame({"spectrum": c.qc["spectrum"],
                          "participant_id": c.qc["spectrum"].str[4:6],
                          "session_id": c.qc["spectrum"].str.split("_").str[1].str[4:],
                          "f_gm": 0.6, "f_wm": 0.3, "f_csf": 0.1})
    res = run_longitudinal((c.concentrations, c.qc), scores, sessions=table,
                           measures=["NAA/tCr", "NAA"], n_boot=200)
    ex = res.exclusions
    assert ex["reason"].str.contains("HAMD17 missing").any()
    assert res.associations.set_index(["metabolite", "score"]).loc[("NAA/tCr", "HAMD17"), "n"] == 5
    ds = res.cohort.data
    assert np.allclose(ds["f_gm"].values, 0.6)
    conc = c.concentrations.set_index(["spectrum", "metabolite"])["conc_mm"]
    assert ds["value"].sel(measure="NAA", participant="sub-02", session="ses-post").item() == \
        pytest.approx(conc[("sub-02_ses-post_svs", "NAA")], rel=1e-12)
