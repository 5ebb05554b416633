"""LCModel-style .table/.coord/.csv writers: LCModel's own files read, written back and compared
line by line; our reader reads what we write with the same numbers."""
import datetime as dt

import numpy as np
import pytest

from mrsquant.io.lcmodel import LCModelCoord, LCModelTable, read_lcmodel_coord, read_lcmodel_table
from mrsquant.io.lcmodel_write import (
    conc_text,
    format_coord,
    format_csv,
    format_table,
    ratio_text,
    read_lcmodel_csv,
    sd_value,
    write_lcmodel_coord,
    write_lcmodel_table,
)

WHEN = dt.datetime(2015, 5, 28, 14, 21)


@pytest.fixture(scope="module")
def svs97(shared_data):
    return shared_data / "suspect_examples" / "tests" / "test_data" / "lcmodel" / "svs_97"


def _lines(path):
    return path.read_text(encoding="latin-1").splitlines()


def test_number_fields_as_lcmodel_prints_them():
    assert [conc_text(x) for x in (0.115, 0.0288, 0.0, 1.488, 1.73e-8)] == [
        "    0.115", " 2.88E-02", "    0.000", "    1.488", " 1.73E-08"]
    assert [ratio_text(x) for x in (0.115, 0.055, 0.0, 8.6e7)] == ["   0.115", " 5.5E-02", "   0.000", " 8.6E+07"]
    assert [sd_value(x) for x in (88.4, 2.5, np.inf, np.nan, 4000)] == [88, 2, 999, 999, 999]


def test_table_written_back_matches_lcmodel_line_by_line(svs97):
    """The concentration table (38 lines) and the first three misc lines of LCModel 6.3's own
    .TABLE are reproduced character for character from what our reader got out of it."""
    table = read_lcmodel_table(svs97.with_suffix(".TABLE"))
    mine = format_table(table, spectrum_id="SVS_97", when=WHEN).splitlines()
    real = _lines(svs97.with_suffix(".TABLE"))
    assert mine[5:5 + 39] == real[5:5 + 39]          # $$CONC line, header, 37 rows
    assert mine[45:49] == real[45:49]                 # $$MISC line, FWHM/S/N, data shift, phase


def test_coord_written_back_matches_lcmodel_and_reads_back(svs97, tmp_path):
    coord = read_lcmodel_coord(svs97.with_suffix(".COORD"))
    path = write_lcmodel_coord(coord, tmp_path / "x.coord", spectrum_id="SVS_97", when=WHEN)
    mine, real = _lines(path), _lines(svs97.with_suffix(".COORD"))
    assert mine[4:47] == real[4:47]                   # NCONC+1 line .. phase line
    ny_line = next(i for i, s in enumerate(real) if "points on ppm-axis" in s)
    # ppm axis, data, fit: identical text (the background is written with 5 digits, LCModel 3)
    stop = next(i for i, s in enumerate(real) if "NY background" in s)
    assert mine[ny_line:stop + 1] == real[ny_line:stop + 1]
    back = read_lcmodel_coord(path)
    for name in ("ppm", "data", "fit", "baseline"):
        np.testing.assert_array_equal(getattr(back, name), getattr(coord, name))
    assert list(back.components) == list(coord.components)
    for k in coord.components:
        np.testing.assert_array_equal(back.components[k], coord.components[k])
    np.testing.assert_array_equal(back.table.conc, coord.table.conc)
    np.testing.assert_array_equal(back.table.sd_percent, coord.table.sd_percent)
    assert back.table.metabolites == coord.table.metabolites and back.table.fwhm_ppm == 0.043


def test_csv_written_back_matches_lcmodel(svs97):
    table = read_lcmodel_table(svs97.with_suffix(".TABLE"))
    assert format_csv([table]).splitlines() == _lines(svs97.with_suffix(".CSV"))


@pytest.mark.parametrize("te", [24, 32, 60])
def test_94t_tables_written_back(shared_data, te):
    """A second LCModel build (6.3-1L, ratio to /Cr, values from 1e-8 to 1e8)."""
    base = shared_data / "mm_94T_lcmodel_outputs" / "Fit results" / "GM Occipital lobe" / f"Summed_Averaged_TE{te}"
    table = read_lcmodel_table(base.with_suffix(".table"))
    real = _lines(base.with_suffix(".table"))
    mine = format_table(table, spectrum_id="x").splitlines()
    n = len(table.metabolites) + 2
    assert mine[5:5 + n] == real[5:5 + n]
    csv_real = _lines(base.with_suffix(".csv"))
    assert format_csv([table]).splitlines() == csv_real


def _record(rng, n=300, names=("NAA", "Cr", "GPC+PCh")):
    ppm = np.linspace(4.0, 0.2, n)
    conc = rng.uniform(0.01, 20, len(names))
    table = LCModelTable(metabolites=list(names), conc=conc, sd_percent=rng.uniform(1, 80, len(names)),
                         ratio=conc / conc[1], ratio_to="Cr+PCr", fwhm_ppm=0.052, snr=23.4,
                         data_shift_ppm=-0.004, phase_deg=(12.0, -3.5),
                         inputs={"DELTAT": 0.00025, "HZPPPM": 123.2, "NUNFIL": 2048, "FILRAW": "a b's.raw"})
    curves = {m: rng.normal(size=n) for m in names[:2]}
    return LCModelCoord(table=table, ppm=ppm, data=rng.normal(size=n) * 1e3, fit=rng.normal(size=n),
                        baseline=rng.normal(size=n) * 1e-3, components=curves)


def test_round_trip_gives_the_printed_numbers(tmp_path):
    rng = np.random.default_rng(4)
    coord = _record(rng)
    t_path = write_lcmodel_table(coord.table, tmp_path / "a.table", spectrum_id="a")
    c_path = write_lcmodel_coord(coord, tmp_path / "a.coord", spectrum_id="a")
    for table in (read_lcmodel_table(t_path), read_lcmodel_coord(c_path).table):
        assert table.metabolites == coord.table.metabolites and table.ratio_to == "Cr+PCr"
        np.testing.assert_array_equal(table.conc, [float(conc_text(x)) for x in coord.table.conc])
        np.testing.assert_array_equal(table.sd_percent, [sd_value(x) for x in coord.table.sd_percent])
        np.testing.assert_array_equal(table.ratio, [float(ratio_text(x)) for x in coord.table.ratio])
        assert (table.fwhm_ppm, table.snr, table.data_shift_ppm, table.phase_deg) == (0.052, 23.0, -0.004,
                                                                                   (12.0, -3.5))
    assert read_lcmodel_table(t_path).inputs == {"DELTAT": 0.00025, "HZPPPM": 123.2, "NUNFIL": 2048.0}
    back = read_lcmodel_coord(c_path)
    for name in ("ppm", "data", "fit", "baseline"):
        np.testing.assert_allclose(getattr(back, name), getattr(coord, name), rtol=5e-6, atol=5e-7)
    assert set(back.components) == {"NAA", "Cr"}


def test_layout_other_parsers_rely_on(tmp_path):
    """spant read_lcm_coord: 4 title lines, fixed-width rows (9, 5, 8, skip 1, name), FWHM and S/N
    the 3rd and 7th words, ten numbers per block line, a diagnostic-table line after the curves;
    MATLAB readers: 'extrs.' before NY, HZPPPM in the input changes."""
    rng = np.random.default_rng(1)
    coord = _record(rng, n=95)
    lines = format_coord(coord, spectrum_id="a").splitlines()
    assert lines[4].endswith("lines in following concentration table = NCONC+1")
    signals = int(lines[4].split()[0]) - 1
    rows = lines[6:6 + signals]
    assert [r[23:].strip() for r in rows] == coord.table.metabolites
    np.testing.assert_allclose([float(r[:9]) for r in rows], coord.table.conc, rtol=5e-3)
    assert [int(r[9:14].rstrip("%")) for r in rows] == [sd_value(x) for x in coord.table.sd_percent]
    words = lines[signals + 7].split()
    assert (float(words[2]), float(words[6])) == (0.052, 23.0)
    ny = next(i for i, s in enumerate(lines) if s.endswith("points on ppm-axis = NY"))
    assert "extrs." in lines[ny - 1].split()
    per_block = int(np.ceil(95 / 10))
    k = 0
    while not lines[ny + k * (per_block + 1)].endswith("lines in following diagnostic table:"):
        k += 1
    assert k == 4 + len(coord.components)
    assert lines[ny + (per_block + 1)].strip() == "NY phased data points follow"
    assert any(s.split()[:3] == ["HZPPPM", "=", "123.2"] for s in lines)
    assert all(len(s.split()) <= 10 for s in lines[ny + 1:ny + per_block + 1])


def test_csv_reader_reads_what_is_written(tmp_path):
    rng = np.random.default_rng(2)
    table = _record(rng, names=("NAA", "Cr", "MM14+Lip13a+Lip13b")).table
    (tmp_path / "a.csv").write_text(format_csv([table]))
    got = read_lcmodel_csv(tmp_path / "a.csv")
    assert list(got) == ["NAA", "Cr", "MM14+Lip13a+L"]
    np.testing.assert_allclose([v["conc"] for v in got.values()], table.conc, rtol=5e-3)
