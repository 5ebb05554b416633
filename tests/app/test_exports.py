"""`mrsquant fit --lcmodel-out`: LCModel-style files of a real fit, read back by our readers with
the numbers of concentrations.tsv and fit.nc."""
import csv

import numpy as np
import pytest

from mrsquant.cli import main
from mrsquant.fitting.store import open_fit
from mrsquant.io.lcmodel import read_lcmodel_coord, read_lcmodel_table
from mrsquant.io.lcmodel_write import conc_text, ratio_text, read_lcmodel_csv, sd_value


@pytest.fixture(scope="module")
def fitted(challenge, tmp_path_factory):
    out = tmp_path_factory.mktemp("exports") / "out"
    raw = challenge / "datasets_LCModel" / "dataset1.RAW"      # no TE in the .RAW: not water scaled
    code = main(["fit", str(raw), "--basis", str(challenge / "basisset_text_noTMS"), "-o", str(out),
                 "--quiet", "--lcmodel-out"])
    assert code == 0
    return out


def _conc_rows(path):
    with open(path) as fh:
        return [r for r in csv.DictReader(fh, delimiter="\t")]


def test_files_and_numbers_match_concentrations_tsv(fitted):
    assert sorted(p.name for p in (fitted / "lcmodel").iterdir()) == [
        "dataset1.coord", "dataset1.csv", "dataset1.table"]
    rows = {r["metabolite"]: r for r in _conc_rows(fitted / "concentrations.tsv")}
    combined = {"tNAA": "NAA+NAAG", "tCr": "Cr+PCr", "tCho": "GPC+PCh", "Glx": "Glu+Gln"}
    table = read_lcmodel_table(fitted / "lcmodel" / "dataset1.table")
    assert table.metabolites == [combined.get(m, m) for m in rows]
    assert table.ratio_to == "Cr+PCr"
    assert not any(r["conc_mm"] for r in rows.values())
    conc = open_fit(fitted / "fit.nc")["amplitude"].values[0]   # Conc.: the amplitude without water scaling
    np.testing.assert_array_equal(table.conc, [float(conc_text(c)) for c in conc])
    crlb = open_fit(fitted / "fit.nc")["crlb_percent"].values[0]
    np.testing.assert_array_equal(table.sd_percent, [sd_value(c) for c in crlb])
    ratio = open_fit(fitted / "fit.nc")["ratio_tcr"].values[0]
    np.testing.assert_array_equal(table.ratio, [float(ratio_text(r)) for r in ratio])
    assert table.ratio[table.metabolites.index("Cr+PCr")] == 1.0
    csv_vals = read_lcmodel_csv(fitted / "lcmodel" / "dataset1.csv")
    np.testing.assert_array_equal([v["conc"] for v in csv_vals.values()], table.conc)


def test_coord_curves_are_the_fit(fitted):
    ds = open_fit(fitted / "fit.nc")
    coord = read_lcmodel_coord(fitted / "lcmodel" / "dataset1.coord")
    np.testing.assert_allclose(coord.ppm, ds.ppm.values, atol=1e-6)
    scale = np.abs(ds["data"].values.real).max()
    for name, var in (("data", "data"), ("fit", "fit"), ("baseline", "baseline")):
        np.testing.assert_allclose(getattr(coord, name), ds[var].values[0].real, rtol=1e-5, atol=1e-5 * scale)
    naa = ds["components"].sel(basis_metabolite="NAA").values[0].real + ds["baseline"].values[0].real
    np.testing.assert_allclose(coord.components["NAA"], naa, rtol=1e-5, atol=1e-5 * scale)
    # the fit is the components plus the baseline, as in LCModel's file
    total = sum(c - coord.baseline for c in coord.components.values()) + coord.baseline
    np.testing.assert_allclose(total, coord.fit, atol=1e-4 * scale)


def test_bad_format_refused_before_anything(challenge, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["fit", str(challenge / "datasets_LCModel" / "dataset1.RAW"), "--basis",
                 str(challenge / "basisset_text_noTMS"), "-o", str(out), "--quiet", "--lcmodel-out", "ps"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--lcmodel-out" in err[0]
    assert not out.exists()


def test_subset_and_rerun_replaces_the_folder(challenge, tmp_path):
    out = tmp_path / "out"
    args = ["fit", str(challenge / "datasets_LCModel" / "dataset1.RAW"), "--basis",
            str(challenge / "basisset_text_noTMS"), "-o", str(out), "--quiet"]
    assert main(args + ["--lcmodel-out", "table,coord"]) == 0
    assert sorted(p.name for p in (out / "lcmodel").iterdir()) == ["dataset1.coord", "dataset1.table"]
    assert main(args + ["--lcmodel-out", "csv"]) == 0
    assert sorted(p.name for p in (out / "lcmodel").iterdir()) == ["dataset1.csv"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_water_scaled_conc_is_mm(challenge, tmp_path):
    """With a water reference and TE, Conc. is conc_mm, as LCModel's Conc. is its water-scaled value."""
    cfg = tmp_path / "q.toml"
    cfg.write_text("[sequence]\nte_ms = 30\n")
    out = tmp_path / "out"
    assert main(["fit", str(challenge / "datasets_LCModel" / "dataset1.RAW"), "--basis",
                 str(challenge / "basisset_text_noTMS"), "-o", str(out), "--quiet", "--quant-config", str(cfg),
                 "--lcmodel-out", "table"]) == 0
    conc = open_fit(out / "fit.nc")["conc_mm"].values[0]     # full precision (the TSV has 6 digits)
    table = read_lcmodel_table(out / "lcmodel" / "dataset1.table")
    np.testing.assert_array_equal(table.conc, [float(conc_text(c)) for c in conc])
    assert 5 < table.conc[table.metabolites.index("Cr+PCr")] < 15     # tCr of the challenge: 8-9 mM
