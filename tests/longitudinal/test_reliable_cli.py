"""``--retest``: the between-session SD comes from the study's repeat scans."""
from __future__ import annotations

import numpy as np
import pandas as pd

from mrsquant.cli import main
from mrsquant.longitudinal import make_cohort


def test_cli_reliable_change_from_retest_scans(tmp_path, capsys):
    study = make_cohort(16, seed=50)
    study.write(tmp_path / "fit")
    # 12 volunteers scanned twice, no true change: sd of the session change 0.04 x ratio
    rt = make_cohort(12, sessions=("test", "retest"), effects={}, seed=51)
    rt.write(tmp_path / "retest")
    out = tmp_path / "out"
    rc = main(["longitudinal", "--results", str(tmp_path / "fit"), "--scores",
               str(tmp_path / "fit" / "scores.tsv"), "--retest", str(tmp_path / "retest"),
               "-o", str(out), "--n-boot", "200", "--no-report"])
    assert rc == 0, capsys.readouterr().err
    em = pd.read_csv(out / "error_model.tsv", sep="\t").set_index("metabolite")
    assert em.loc["tNAA/tCr", "source"] == "retest (12 pairs)"
    assert em.loc["tNAA/tCr", "n_pairs"] == 12
    # truth of the retest generator for tNAA/tCr: change sd^2 = (0.04*1.35)^2 + (0.04*0.15)^2
    # plus twice the fit noise (3 % of 1.35, 25 % of 0.15); wsd = that / sqrt(2)
    var_d = (0.04 * 1.35) ** 2 + (0.04 * 0.15) ** 2 + 2 * ((0.03 * 1.35) ** 2 + (0.25 * 0.15) ** 2)
    wsd = np.sqrt(var_d / 2)
    # 12 pairs: the SD estimate has ~21 % relative SE; allow 3 SE
    assert abs(em.loc["tNAA/tCr", "wsd"] / wsd - 1) < 0.65
    rel = pd.read_csv(out / "reliable_change.tsv", sep="\t")
    assert set(rel["reliable_change"].dropna()) <= {"increase", "decrease", "none"}
    assert (rel["se_change"] > 0).all()
    t = rel[rel["metabolite"] == "tNAA/tCr"]
    assert np.allclose(t["rci"], t["delta"] / t["se_change"])


def test_ratio_sd_from_the_fits_covariance_is_used(tmp_path):
    from mrsquant.longitudinal import assemble_cohort

    c = make_cohort(6, seed=52)
    paths = c.write(tmp_path / "fit")
    conc = c.concentrations
    spectra = conc["spectrum"].unique()
    # a ratios.tsv as `mrsquant fit --ratios tCho/tNAA Glx/GABA` writes it; sd known
    sd = {s: 0.001 * (k + 1) for k, s in enumerate(spectra)}
    pd.DataFrame({"spectrum": spectra, "ratio": "tCho/tNAA", "value": 0.2,
                  "sd": [sd[s] for s in spectra]}).to_csv(tmp_path / "fit" / "ratios.tsv",
                                                         sep="\t", index=False)
    cohort = assemble_cohort(tmp_path / "fit", paths["scores"])
    ds = cohort.data
    got = ds["measure_crlb_abs"].sel(measure="tCho/tNAA").values
    want = np.array([[sd.get(s, np.nan) for s in row] for row in ds["spectrum"].values])
    assert np.allclose(got, want, equal_nan=True)
    # other ratios keep the quadrature combination of the CRLBs
    v = ds["value"].sel(measure="tNAA/tCr").values
    assert np.allclose(ds["measure_crlb_abs"].sel(measure="tNAA/tCr").values,
                       np.abs(v) * ds["measure_crlb_percent"].sel(measure="tNAA/tCr").values / 100)
    assert any("tCho/tNAA: uncertainty from the fit's full covariance" in n for n in cohort.notes)
