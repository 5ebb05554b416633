"""Bad tables are refused: exit 2, one line on stderr, nothing written in the output folder."""
from __future__ import annotations

import pandas as pd
import pytest

from mrsquant.cli import main
from mrsquant.longitudinal import make_cohort


@pytest.fixture
def study(tmp_path):
    c = make_cohort(8, seed=40)
    paths = c.write(tmp_path / "fit")
    scores = pd.read_csv(paths["scores"], sep="\t", dtype=str, keep_default_na=False)
    return tmp_path, tmp_path / "fit", scores


def _run(tmp_path, results, scores: pd.DataFrame, *extra):
    path = tmp_path / "scores_in.tsv"
    scores.to_csv(path, sep="\t", index=False)
    out = tmp_path / "out"
    rc = main(["longitudinal", "--results", *map(str, results), "--scores", str(path),
               "-o", str(out), "--n-boot", "200", "--no-report", *extra])
    return rc, out


def _refused(capsys, rc, out, *phrases):
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.count("\n") == 1, err
    for phrase in phrases:
        assert phrase in err, err
    assert not out.exists(), "nothing may be written on a refusal"


def test_duplicate_result_rows_are_refused(study, capsys):
    tmp, fit, scores = study
    rc, out = _run(tmp, [fit, fit], scores)               # the same folder given twice
    _refused(capsys, rc, out, "duplicate rows", "sub-01 ses-pre")


def test_duplicate_score_rows_are_refused(study, capsys):
    tmp, fit, scores = study
    rc, out = _run(tmp, [fit], pd.concat([scores, scores.iloc[[3]]]))
    _refused(capsys, rc, out, "duplicate rows", scores.iloc[3]["participant_id"])


def test_score_rows_without_spectra_are_refused(study, capsys):
    tmp, fit, scores = study
    extra = scores.iloc[[0]].assign(participant_id="sub-42")
    rc, out = _run(tmp, [fit], pd.concat([scores, extra]))
    _refused(capsys, rc, out, "match no spectrum", "sub-42 ses-pre", "--allow-unmatched")
    rc, out = _run(tmp, [fit], pd.concat([scores, extra]), "--allow-unmatched")
    assert rc == 0
    ex = pd.read_csv(out / "exclusions.tsv", sep="\t")
    assert ex.loc[ex["participant_id"] == "sub-42", "reason"].str.contains("no spectra").any()


def test_spectra_without_scores_are_refused(study, capsys):
    tmp, fit, scores = study
    keep = ~((scores["participant_id"] == "sub-05") & (scores["session_id"] == "ses-post"))
    rc, out = _run(tmp, [fit], scores[keep])
    _refused(capsys, rc, out, "no score row", "sub-05 ses-post")
    rc, out = _run(tmp, [fit], scores[keep], "--allow-unmatched")
    assert rc == 0
    ex = pd.read_csv(out / "exclusions.tsv", sep="\t")
    assert ex["reason"].str.contains("no row in scores table").any()


def test_non_numeric_scores_are_refused(study, capsys):
    tmp, fit, scores = study
    bad = scores.copy()
    bad.loc[2, "HAMD17"] = "refused"
    rc, out = _run(tmp, [fit], bad)
    _refused(capsys, rc, out, "non-numeric", "'refused'")
    # an empty cell or BIDS n/a is a missing score, not a refusal
    ok = scores.copy()
    ok.loc[2, "HAMD17"] = "n/a"
    ok.loc[3, "HAMD17"] = ""
    rc, out = _run(tmp, [fit], ok)
    assert rc == 0


def test_unknown_session_labels_are_refused(study, capsys):
    tmp, fit, scores = study
    bad = scores.copy()
    bad.loc[bad["participant_id"] == "sub-03", "session_id"] = ["ses-pre", "ses-week8"]
    rc, out = _run(tmp, [fit], bad)
    _refused(capsys, rc, out, "unknown session label", "ses-week8", "ses-pre, ses-post")


def test_two_columns_for_one_scale_are_refused(study, capsys):
    tmp, fit, scores = study
    rc, out = _run(tmp, [fit], scores.assign(**{"HAM-D": scores["HAMD17"]}))
    _refused(capsys, rc, out, "HAMD17", "HAM-D")


def test_explicit_measure_that_cannot_be_formed_is_refused(study, capsys):
    tmp, fit, scores = study
    rc, out = _run(tmp, [fit], scores, "--measures", "Asp/tCr")
    _refused(capsys, rc, out, "Asp/tCr", "not in the fit results")
