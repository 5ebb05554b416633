"""A baseline score of 0 (percent change undefined) gives NA with a note; the PDF still draws."""
from __future__ import annotations

import shutil
import subprocess

import pandas as pd
import pytest

from mrsquant.cli import main
from mrsquant.longitudinal import make_cohort


def test_baseline_score_zero_gives_na_and_the_pdf_draws(tmp_path, capsys):
    c = make_cohort(12, seed=44)
    paths = c.write(tmp_path / "fit")
    scores = pd.read_csv(paths["scores"], sep="\t")
    pre = (scores["participant_id"] == "sub-03") & (scores["session_id"] == "ses-pre")
    scores.loc[pre, "HAMD17"] = 0
    scores.to_csv(paths["scores"], sep="\t", index=False)
    out = tmp_path / "out"
    rc = main(["longitudinal", "--results", str(tmp_path / "fit"), "--scores",
               str(paths["scores"]), "-o", str(out), "--n-boot", "200"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "HAMD17 baseline 0 for sub-03" in captured.out
    pdf = out / "longitudinal.pdf"
    assert pdf.stat().st_size > 10_000
    assert pdf.read_bytes()[:5] == b"%PDF-"
    ch = pd.read_csv(out / "changes.tsv", sep="\t")
    row = ch[(ch["participant_id"] == "sub-03") & (ch["score"] == "HAMD17")]
    assert len(row) > 0
    assert row["score_delta_percent"].isna().all()
    assert row["responder"].isna().all()
    assert row["note"].str.contains("baseline 0").all()
    # the change itself is defined: score_delta = follow-up - 0
    assert (row["score_delta"] == row["score_followup"]).all()
    others = ch[(ch["participant_id"] != "sub-03") & (ch["score"] == "HAMD17")]
    assert others["responder"].notna().all()
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed: the page text is not checked")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "baseline 0 for sub-03" in text
    assert "Responders vs non-responders" in text
    assert "coloured by response" in text            # spaghetti lines by response status
    assert "Reliable change (|RCI|" in text          # summary: reliable changes per measure
    assert "q = BH FDR" in text                      # forest plot carries the q values
