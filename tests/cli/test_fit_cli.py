import csv

import numpy as np
import pytest

from mrsquant.cli import main


def read_tsv(path):
    with open(path) as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_fit_cli_batch_with_failure_and_flags(challenge, tmp_path, capsys):
    out = tmp_path / "out"
    bad = tmp_path / "broken.RAW"
    bad.write_text(" $NMID\n garbage\n")
    rc = main(["fit", str(challenge / "datasets_text" / "dataset1.txt"),
               str(challenge / "datasets_LCModel" / "dataset24.RAW"),
               str(challenge / "datasets_text" / "dataset28.txt"), str(bad),
               "--basis", str(challenge / "basisset_text_noTMS"), "-o", str(out), "--quiet"])
    assert rc == 0
    conc = read_tsv(out / "concentrations.tsv")
    assert {"spectrum", "metabolite", "amplitude", "crlb_percent", "crlb_abs", "ratio_tcr", "conc_mm"} <= set(conc[0])
    names = {r["metabolite"] for r in conc}
    assert {"tNAA", "tCr", "tCho", "Glx", "mI", "PCh"} <= names
    qc = {r["spectrum"]: r for r in read_tsv(out / "qc.tsv")}
    assert qc["dataset1"]["status"] == "ok"
    assert qc["dataset24"]["status"] != "ok"     # spurious artefact line
    assert qc["dataset28"]["status"] != "ok"     # massive lipid contamination
    assert qc["broken"]["status"].startswith("failed")
    for r in conc:
        if r["spectrum"] != "broken":
            assert np.isfinite(float(r["amplitude"]))
            assert r["conc_mm"] != ""            # water from the .H2O / 4-column partner
    assert (out / "fit.nc").exists()
    from mrsquant.fitting import open_fit
    ds = open_fit(out)
    assert np.iscomplexobj(ds["fit"].values) and "dataset1" in ds.spectrum.values


def test_fit_cli_bad_only_input(tmp_path, capsys, challenge):
    bad = tmp_path / "x.nii.gz"
    bad.write_bytes(b"\x1f\x8b garbage")
    out = tmp_path / "o"
    rc = main(["fit", str(bad), "--basis", str(challenge / "basisset_text_noTMS"), "-o", str(out)])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error" in err[0]
    assert not out.exists() or not any(out.iterdir())


def test_fit_cli_metabolite_shifts(challenge, tmp_path):
    """--metabolite-shifts turns on per-metabolite shifts with the given prior SD (recorded in fit.nc)."""
    import json

    from mrsquant.fitting import open_fit

    out = tmp_path / "shifts"
    rc = main(["fit", str(challenge / "datasets_text" / "dataset1.txt"), "--basis",
               str(challenge / "basisset_text_noTMS"), "-o", str(out), "--quiet", "--metabolite-shifts", "0.5"])
    assert rc == 0
    opts = json.loads(open_fit(out).attrs["model_options"])
    assert opts["metabolite_shifts"] is True and opts["metabolite_shift_sd_hz"] == 0.5
    # a non-positive SD is an input error: exit 2, nothing written
    bad = tmp_path / "bad"
    assert main(["fit", str(challenge / "datasets_text" / "dataset1.txt"), "--basis",
                 str(challenge / "basisset_text_noTMS"), "-o", str(bad), "--quiet", "--metabolite-shifts", "0"]) == 2
    assert not bad.exists()


def test_fit_cli_ratios(challenge, tmp_path, capsys):
    out = tmp_path / "r"
    rc = main(["fit", str(challenge / "datasets_text" / "dataset1.txt"), "--basis",
               str(challenge / "basisset_text_noTMS"), "-o", str(out), "--quiet", "--ratios", "tCho/tNAA", "Glx/GABA"])
    assert rc == 0
    rows = read_tsv(out / "ratios.tsv")
    assert [r["ratio"] for r in rows] == ["tCho/tNAA", "Glx/GABA"]
    conc = {r["metabolite"]: float(r["amplitude"]) for r in read_tsv(out / "concentrations.tsv")}
    assert float(rows[0]["value"]) == pytest.approx(conc["tCho"] / conc["tNAA"], rel=1e-5)
    assert 0 < float(rows[0]["sd"]) < float(rows[0]["value"])
    # an unknown metabolite: one line, exit 2, nothing written
    bad = tmp_path / "bad"
    assert main(["fit", str(challenge / "datasets_text" / "dataset1.txt"), "--basis",
                 str(challenge / "basisset_text_noTMS"), "-o", str(bad), "--ratios", "tCho/XYZ"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "XYZ" in err[0] and not bad.exists()
