"""Contract check: `mrsquant fit` output on real spectra feeds `mrsquant longitudinal`.

Four ISMRM 2016 fitting-challenge spectra play two participants x two sessions
(a --sessions table maps them); the changes must equal the amplitude ratios in
the fit's own concentrations.tsv.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mrsquant.cli import main


def test_fit_tables_feed_longitudinal(challenge, tmp_path, capsys):
    inputs = [str(challenge / "datasets_text" / f"dataset{i}.txt") for i in (1, 2, 3, 4)]
    fits = tmp_path / "fits"
    assert main(["fit", *inputs, "--basis", str(challenge / "basisset_text_noTMS"),
                 "-o", str(fits), "--quiet"]) == 0
    sessions = pd.DataFrame({"spectrum": [f"dataset{i}.txt" for i in (1, 2, 3, 4)],
                             "participant_id": ["1", "1", "2", "2"],
                             "session_id": ["pre", "post", "pre", "post"]})
    sessions.to_csv(tmp_path / "sessions.tsv", sep="\t", index=False)
    scores = pd.DataFrame({"participant_id": ["1", "1", "2", "2"],
                           "session_id": ["pre", "post", "pre", "post"],
                           "HAMD17": [22, 9, 18, 17]})
    scores.to_csv(tmp_path / "scores.tsv", sep="\t", index=False)
    out = tmp_path / "long"
    rc = main(["longitudinal", "--results", str(fits), "--sessions", str(tmp_path / "sessions.tsv"),
               "--scores", str(tmp_path / "scores.tsv"), "-o", str(out), "--no-report",
               "--n-boot", "200"])
    assert rc == 0, capsys.readouterr().err
    conc = pd.read_csv(fits / "concentrations.tsv", sep="\t")
    amp = conc.pivot(index="spectrum", columns="metabolite", values="amplitude")
    ch = pd.read_csv(out / "changes.tsv", sep="\t")
    row = ch[(ch["participant_id"] == "sub-2") & (ch["metabolite"] == "tNAA/tCr")].iloc[0]
    pre = amp.loc["dataset3", "tNAA"] / amp.loc["dataset3", "tCr"]
    post = amp.loc["dataset4", "tNAA"] / amp.loc["dataset4", "tCr"]
    assert row["delta"] == pytest.approx(post - pre, rel=1e-6)   # TSV keeps ~7 digits
    assert bool(row["responder"]) is False and row["score_delta"] == -1
    tests = pd.read_csv(out / "tests.tsv", sep="\t").set_index("metabolite")
    assert tests.loc["tNAA/tCr", "n"] == 2 and np.isfinite(tests.loc["tNAA/tCr", "mean_delta"])
