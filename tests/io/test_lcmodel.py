"""LCModel .RAW/.H2O, .BASIS, .table and .coord on the real files in ../shared/data."""
import re

import numpy as np
import pytest

from mrsquant.basis.io import load_basis, save_basis
from mrsquant.basis.lcmodel import read_lcmodel_basis
from mrsquant.io import detect_format, load, save
from mrsquant.io.lcmodel import read_lcmodel_coord, read_lcmodel_raw, read_lcmodel_table, water_partner

from .helpers import namelist_number, peak_ppm


def basis_files(root):
    return sorted(p for p in root.rglob("*") if p.suffix.lower() == ".basis")


# -- .RAW / .H2O -------------------------------------------------------------------

def test_challenge_raw_and_water(challenge):
    raw = challenge / "datasets_LCModel/dataset1.RAW"
    s = load(raw)
    assert detect_format(raw).name == "LCModel RAW"
    # README: 2048 points; no dwell/frequency in the file -> challenge values, flagged as assumed
    assert s.n_points == 2048 and s.dwelltime_s == 1 / 4000 and s.spectrometer_frequency_mhz == 123.2
    assert set(s.meta["AssumedParameters"]) == {"dwelltime_s", "spectrometer_frequency_mhz"}
    assert abs(peak_ppm(s.data, s.dwelltime_s, 123.2, 4.65, 1.85, 2.2) - 2.01) < 0.05
    w = water_partner(raw)
    assert w is not None and w.n_points == 2048
    assert abs(peak_ppm(w.data, w.dwelltime_s, 123.2, 4.65, 3.0, 6.0) - 4.65) < 0.05
    # the same dataset as 4-column text (columns 1-2 and 3-4): identical to 5 digits
    txt = np.loadtxt(challenge / "datasets_text/dataset1.txt")
    assert np.allclose(s.data, txt[:, 0] + 1j * txt[:, 1], rtol=1e-4, atol=1e-3 * np.abs(s.data).max())
    assert np.allclose(w.data, txt[:, 2] + 1j * txt[:, 3], rtol=1e-4, atol=1e-3 * np.abs(w.data).max())


def test_water_partner_any_case(challenge, tmp_path):
    src = challenge / "datasets_LCModel"
    (tmp_path / "a.raw").write_text((src / "dataset2.RAW").read_text())
    assert water_partner(tmp_path / "a.raw") is None
    (tmp_path / "a.h2o").write_text((src / "dataset2.H2O").read_text())
    assert water_partner(tmp_path / "a.raw").n_points == 2048


def test_lcmodel_test_raw_uses_its_control_file(shared_data):
    d = shared_data / "lcmodel_test/test_lcm"
    s = load(d / "data.raw")
    # README: 1024 points, 0.5 ms dwell, 127.786 MHz (from control.file, FILRAW='data.raw')
    assert s.n_points == 1024 and s.dwelltime_s == pytest.approx(5e-4)
    assert s.spectrometer_frequency_mhz == pytest.approx(127.786142)
    assert "AssumedParameters" not in s.meta
    assert abs(peak_ppm(s.data, s.dwelltime_s, s.spectrometer_frequency_mhz, 4.65, 1.85, 2.2) - 2.01) < 0.05


def test_bruker_flag_conjugates(shared_data):
    # $NMID BRUKER=T: LCModel conjugates, so must we. 9.4T macromolecule spectrum:
    # the MM peak near 0.9 ppm (control file: MM09 @ 0.916) must come out upfield.
    root = shared_data / "mm_94T_lcmodel_outputs"
    raw = root / "Macromolecular baselines/GM Occipital lobe/Summed_Averaged_TE24.RAW"
    ctl = root / "Fitsettings/fitsettings_Summed_Averaged_Default_Lopez_all_linewidths.control"
    text = ctl.read_text()
    s = read_lcmodel_raw(raw, control=ctl)
    assert s.meta["LCModelBruker"] is True
    assert s.dwelltime_s == pytest.approx(namelist_number(text, "deltat"))
    assert s.spectrometer_frequency_mhz == pytest.approx(399.7182)  # $SEQPAR HZPPM of the file
    assert s.te_ms == 24
    assert s.n_points == int(namelist_number(text, "nunfil"))
    args = (s.dwelltime_s, s.spectrometer_frequency_mhz, 4.65)
    assert abs(peak_ppm(s.data, *args, 0.7, 1.1, lb_hz=5) - 0.916) < 0.1
    # unconjugated, the spectrum would be mirrored about 4.65 ppm: MM09 near 8.4 ppm
    spec = np.abs(np.fft.fftshift(np.fft.fft(s.data)))
    assert spec[(s.ppm > 0.8) & (s.ppm < 1.0)].max() > 3 * spec[(s.ppm > 8.3) & (s.ppm < 8.5)].max()


def test_raw_round_trip_is_lossless(shared_data, tmp_path):
    s = load(shared_data / "spant_examples/inst/extdata/philips_spar_sdat_WS.SDAT")
    out = save(s, tmp_path / "x.RAW")
    back = load(out)
    # 17 digits after the point: float64 round trip is exact
    assert np.array_equal(back.data, s.data)
    assert back.dwelltime_s == s.dwelltime_s
    assert back.spectrometer_frequency_mhz == s.spectrometer_frequency_mhz
    assert back.te_ms == s.te_ms and "AssumedParameters" not in back.meta
    # a 6-digit file (LCModel's usual '(2E15.6)') keeps 7 significant digits
    from mrsquant.io.lcmodel import write_lcmodel_raw
    write_lcmodel_raw(s, tmp_path / "y.RAW", digits=6)
    short = load(tmp_path / "y.RAW")
    for part in (np.real, np.imag):  # 7 significant digits: relative error <= 5e-7 per value
        assert np.all(np.abs(part(short.data) - part(s.data)) <= 5.0001e-7 * np.abs(part(s.data)))


# -- .BASIS ---------------------------------------------------------------------------

def test_every_basis_file_reads_with_cr_at_303(shared_data):
    files = basis_files(shared_data)
    assert len(files) >= 8
    for f in files:
        text = f.read_text(errors="replace")
        b = load_basis(f)
        ndatab = int(namelist_number(text, "NDATAB"))
        assert b.spectrometer_frequency_mhz == pytest.approx(namelist_number(text, "HZPPPM"))
        assert b.dwelltime_s == pytest.approx(namelist_number(text, "BADELT"))
        assert b.n_points in (ndatab, ndatab // 2)
        assert len(b.names) == len(re.findall(r"METABO\s*=", text, re.I))
        cr = b.fids[b.names.index("Cr")]
        ppm = peak_ppm(cr, b.dwelltime_s, b.spectrometer_frequency_mhz, 4.65, 2.8, 3.3)
        assert abs(ppm - 3.03) < 0.05, f"{f.name}: Cr at {ppm:.3f} ppm"


def test_challenge_basis_matches_text_and_raw_fids(challenge):
    b = read_lcmodel_basis(challenge / "basisset_LCModel/press3T_30ms.BASIS")
    text = load_basis(challenge / "basisset_text")
    assert b.n_points == 2048  # NDATAB 4096 = zero-filled 2 x 2048
    common = [n for n in text.names if n in b.names]
    assert len(common) >= 20
    ppm = 4.65 - np.fft.fftshift(np.fft.fftfreq(2048, text.dwelltime_s)) / text.spectrometer_frequency_mhz
    win = (ppm > 0.2) & (ppm < 4.2)
    for name in common:
        x = np.fft.fftshift(np.fft.fft(text.fids[text.names.index(name)]))[win]
        y = np.fft.fftshift(np.fft.fft(b.fids[b.names.index(name)]))[win]
        corr = np.real(np.vdot(x, y)) / np.linalg.norm(x) / np.linalg.norm(y)
        assert corr > 0.99, name
    # same scale as the .RAW basis FIDs
    raw_cr = read_lcmodel_raw(challenge / "basisset_LCModel/Cr.RAW").data
    assert np.allclose(b.fids[b.names.index("Cr")], raw_cr, atol=1e-3 * np.abs(raw_cr).max())


def test_raw_basis_folder(challenge):
    folder = challenge / "basisset_LCModel"
    n_raw = len([p for p in folder.iterdir() if p.suffix.lower() == ".raw"])
    b = load_basis(folder)
    assert len(b.names) == n_raw == 22 and b.n_points == 2048 and "NAA" in b.names


@pytest.mark.parametrize("name", ["fitting_challenge_2016/basisset_LCModel/press3T_30ms.BASIS",
                                  "lcmodel_test/test_lcm/3t.basis",
                                  "suspect_examples/tests/test_data/lcmodel/press_30ms_3T.basis"])
def test_basis_round_trip_identical(shared_data, tmp_path, name):
    a = read_lcmodel_basis(shared_data / name)
    save_basis(a, tmp_path / "out.BASIS")
    b = load_basis(tmp_path / "out.BASIS")
    assert b.names == a.names and b.n_points == a.n_points
    assert np.allclose(b.fids, a.fids, rtol=0, atol=1e-12 * np.abs(a.fids).max())
    assert np.array_equal(b.scaling, a.scaling)
    for attr in ("dwelltime_s", "spectrometer_frequency_mhz", "te_ms", "sequence"):
        assert getattr(b, attr) == getattr(a, attr), attr
    # identical up to the FFT round-off of float64 (1e-12 of the peak): 17-digit text


# -- .table / .coord ----------------------------------------------------------------------

def test_table_values(shared_data):
    t = read_lcmodel_table(shared_data / "suspect_examples/tests/test_data/lcmodel/svs_97.TABLE")
    # header says "38 lines ... = NCONC+1": 37 rows plus the column header
    assert len(t.metabolites) == 37 and t.ratio_to == "Cr+PCr"
    row = t.as_dict()["NAA"]
    assert (row["conc"], row["sd_percent"], row["ratio"]) == (7.97e-02, 11, 0.318)
    assert t.as_dict()["Cr+PCr"]["ratio"] == 1.0
    assert (t.fwhm_ppm, t.snr, t.phase_deg) == (0.043, 13, (21, 12.2))
    assert t.inputs["DELTAT"] == 0.000833 and t.inputs["NUNFIL"] == 1024


def test_coord_arrays(shared_data):
    c = read_lcmodel_coord(shared_data / "suspect_examples/tests/test_data/lcmodel/svs_97.COORD")
    assert c.ppm.size == c.data.size == c.fit.size == c.baseline.size == 799  # "799 points on ppm-axis"
    assert c.ppm[0] > c.ppm[-1] and np.all(np.diff(c.ppm) < 0)
    assert c.table.as_dict()["NAA"]["conc"] == 7.97e-02
    assert "NAA" in c.components and c.components["NAA"].size == 799


def test_mm94t_outputs_parse(shared_data):
    root = shared_data / "mm_94T_lcmodel_outputs/Fit results"
    tables = sorted(root.rglob("*.table"))
    coords = sorted(root.rglob("*.coord"))
    assert len(tables) == len(coords) == 10
    for t_path, c_path in zip(tables, coords):
        t, c = read_lcmodel_table(t_path), read_lcmodel_coord(c_path)
        assert t.ratio_to == "Cr" and "MM09" in t.metabolites
        assert t.metabolites[: len(c.table.metabolites)] == c.table.metabolites
        assert np.allclose(c.table.conc, t.conc[: len(c.table.conc)])
        assert c.fit.size == c.ppm.size and t.snr is not None and t.fwhm_ppm > 0


def test_cr_water_scaling_pair(challenge):
    # README: a creatine-only spectrum with its unsuppressed water (challenge acquisition)
    raw = challenge / "Cr_water_scaling_LCModel/Cr_10mM_test_water_scaling.RAW"
    s, w = load(raw), water_partner(raw)
    assert s.n_points == w.n_points == 2048
    args = (s.dwelltime_s, s.spectrometer_frequency_mhz, 4.65)
    assert abs(peak_ppm(s.data, *args, 2.5, 3.5) - 3.03) < 0.05
    assert abs(peak_ppm(w.data, *args, 3.5, 6.0) - 4.65) < 0.05
