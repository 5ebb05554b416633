"""The whole chain (`mrsquant demo`) on the shipped simulated cohort, checked against its truth."""
import csv

import numpy as np
import pytest

from mrsquant.cli import main
from mrsquant.cli.demo import default_data_dir


def read_tsv(path):
    with open(path) as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "-o", str(out)]) == 0
    return out


def test_demo_writes_every_stage(demo_out):
    for rel in ("basis_press_te30_3T/basis.json", "converted/example.nii.gz", "fit/concentrations.tsv",
                "fit/qc.tsv", "fit/fit.nc", "fit/report.pdf", "longitudinal/changes.tsv",
                "longitudinal/tests.tsv", "longitudinal/longitudinal.pdf"):
        assert (demo_out / rel).exists(), rel
    assert len(list((demo_out / "preprocessed").glob("*_transients.tsv"))) == 1
    qc = read_tsv(demo_out / "fit" / "qc.tsv")
    # clean simulated spectra: ok, except that a lipid group (none simulated) may take up
    # baseline at its width bound in a spectrum or two, which is flagged as such
    assert all(r["status"] == "ok" or (r["status"] == "at bounds" and "lipid" in r["reasons"]) for r in qc)
    assert sum(r["status"] == "ok" for r in qc) >= len(qc) - 2


def test_demo_concentrations_match_truth(demo_out):
    """Water-scaled tCr and NAA (mM) against the simulation truth, over 32 spectra."""
    truth = {r["spectrum"]: r for r in read_tsv(default_data_dir() / "truth.tsv")}
    conc = read_tsv(demo_out / "fit" / "concentrations.tsv")
    for name, parts in (("tCr", ("Cr", "PCr")), ("NAA", ("NAA",))):
        ratio = [float(r["conc_mm"]) / sum(float(truth[r["spectrum"]][p]) for p in parts)
                 for r in conc if r["metabolite"] == name]
        assert len(ratio) == 32
        # systematic error below 5 %, spread consistent with SNR ~50 spectra
        assert abs(np.mean(ratio) - 1) < 0.05, (name, np.mean(ratio))
        assert np.std(ratio) < 0.1, (name, np.std(ratio))


def test_demo_recovers_the_simulated_change(demo_out):
    """The true mean tNAA/tCr change (from truth.tsv) lies in the reported 95 % CI."""
    truth = {r["spectrum"]: r for r in read_tsv(default_data_dir() / "truth.tsv")}

    def ratio(spec):
        t = truth[spec]
        return (float(t["NAA"]) + float(t["NAAG"])) / (float(t["Cr"]) + float(t["PCr"]))
    subs = sorted({s.split("_")[0] for s in truth})
    true_delta = np.mean([ratio(f"{s}_ses-post_svs") - ratio(f"{s}_ses-pre_svs") for s in subs])
    row = next(r for r in read_tsv(demo_out / "longitudinal" / "tests.tsv") if r["metabolite"] == "tNAA/tCr")
    assert float(row["ci_low"]) <= true_delta <= float(row["ci_high"])
    # subjects with both visits' fits passing QC (the longitudinal default takes status ok only)
    ok = {r["spectrum"] for r in read_tsv(demo_out / "fit" / "qc.tsv") if r["status"] == "ok"}
    n_ok = sum(f"{s}_ses-pre_svs" in ok and f"{s}_ses-post_svs" in ok for s in subs)
    assert n_ok >= 14 and int(row["n"]) == n_ok
