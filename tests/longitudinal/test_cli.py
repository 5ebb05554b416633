"""``mrsquant longitudinal`` end to end on a synthetic cohort written as fit tables."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from mrsquant.app.longitudinal import run_longitudinal
from mrsquant.cli import main
from mrsquant.longitudinal import make_cohort

REQUIRED = {
    "changes.tsv": ["participant_id", "metabolite", "baseline", "followup", "delta",
                    "delta_percent", "log_ratio", "score", "score_delta", "responder", "remitter"],
    "tests.tsv": ["metabolite", "n", "mean_delta", "ci_low", "ci_high", "dz", "t_p",
                  "wilcoxon_p", "q_fdr"],
    "associations.tsv": ["metabolite", "score", "n", "r_pearson", "ci_low", "ci_high", "p",
                         "r_spearman", "q_fdr"],
}


@pytest.fixture
def study(tmp_path):
    c = make_cohort(16, groups=("drug", "placebo"), failed=[(0, "post")],
                    missing_scores=[(1, "post", "MADRS")], seed=21)
    fit = tmp_path / "fit"
    paths = c.write(fit)
    scores = tmp_path / "scores.tsv"
    paths["scores"].rename(scores)
    return fit, scores, c


def test_cli_writes_every_output(study, tmp_path, capsys):
    fit, scores, c = study
    out = tmp_path / "out"
    rc = main(["longitudinal", "--results", str(fit), "--scores", str(scores), "-o", str(out),
               "--covariates", "age", "--n-boot", "500"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "16 participants" in printed and "exclusions" in printed
    for name, cols in REQUIRED.items():
        df = pd.read_csv(out / name, sep="\t")
        assert list(df.columns[: len(cols)]) == cols, name
    mixed = pd.read_csv(out / "mixed.tsv", sep="\t")
    assert {"time", "time:C(group)[T.placebo]", "age"} <= set(mixed["term"])
    ex = pd.read_csv(out / "exclusions.tsv", sep="\t")
    assert ex["reason"].str.contains("failed").any()
    assert ex["reason"].str.contains("MADRS missing").any()
    ds = xr.open_dataset(out / "cohort.nc", engine="h5netcdf")
    assert dict(ds.sizes)["participant"] == 16 and "score_HAMD17" in ds
    assert set(ds["value"].dims) == {"participant", "session", "measure"}
    ds.close()
    pdf = out / "longitudinal.pdf"
    assert pdf.stat().st_size > 10_000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                              text=True).stdout
        for phrase in ("Individual trajectories", "Forest plots", "Exclusions and flags",
                       "change in tNAA/tCr", "sub-01_ses-post_svs"):
            assert phrase in text
    assert not list(out.glob("*.tmp"))


def test_cli_bad_input_is_one_line(tmp_path, capsys):
    rc = main(["longitudinal", "--results", str(tmp_path / "nope"), "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "not found" in err
    bad = tmp_path / "scores.tsv"
    bad.write_text("id\tHAMD17\n1\t20\n")
    c = make_cohort(4, seed=1)
    c.write(tmp_path / "fit")
    rc = main(["longitudinal", "--results", str(tmp_path / "fit"), "--scores", str(bad),
               "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "participant_id" in err and err.count("\n") == 1
    rc = main(["longitudinal", "--results", str(tmp_path / "fit"), "--scores",
               str(tmp_path / "fit" / "scores.tsv"), "--measures", "NAA/Foo",
               "-o", str(tmp_path / "o")])
    assert rc == 2 and "NAA/Foo" in capsys.readouterr().err


def test_recovers_known_truth_on_a_large_cohort():
    """Table path (fit tables -> cohort -> changes -> statistics) estimates the generator's
    truth: within 4 standard errors (a false failure has probability < 1e-4 per check)."""
    n = 1000
    c = make_cohort(n, integer_scores=False, seed=31)
    res = run_longitudinal((c.concentrations, c.qc), c.scores, n_boot=300)
    truth = c.truth.set_index("measure")
    t = res.tests.set_index("metabolite")
    a = res.associations.set_index(["metabolite", "score"])
    for meas in ("tNAA/tCr", "Glx/tCr", "tCho/tCr", "GABA/tCr"):
        mean, sd, r = truth.loc[meas, ["mean_change", "sd_change", "r_HAMD17"]]
        assert abs(t.loc[meas, "mean_delta"] - mean) < 4 * sd / np.sqrt(n), meas
        assert abs(t.loc[meas, "sd_delta"] - sd) < 4 * sd / np.sqrt(2 * n), meas
        est = a.loc[(meas, "HAMD17"), "r_pearson"]
        assert abs(est - r) < 4 * (1 - r ** 2) / np.sqrt(n), (meas, est, r)
    assert t.loc["tNAA/tCr", "q_fdr"] < 0.05
    assert np.isclose(t.loc["tNAA/tCr", "mdc95_percent"], 1.96 * np.sqrt(2) * np.hypot(4, 4))
