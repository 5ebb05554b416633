"""``mrsquant basis`` in-process through main([...])."""
import numpy as np

from mrsquant.basis.io import load_basis
from mrsquant.cli import main


def test_simulate_info_convert(tmp_path, capsys):
    out = tmp_path / "p30"
    rc = main(["basis", "simulate", "--sequence", "press", "--te", "30", "--te1", "11", "--te2", "19",
               "--field-mhz", "123.2", "--points", "512", "--bandwidth", "4000",
               "--metabolites", "Cr,Ins,PCho,MM0.92", "-o", str(out)])
    assert rc == 0
    b = load_basis(out)
    assert b.names == ("Cr", "mI", "PCh", "MM092") and b.n_points == 512 and b.te_ms == 30
    assert abs(b.fids[0, 0]) == __import__("pytest").approx(6.0, abs=1e-4)  # 6 Cr protons, singlets
    assert "--te1 11" in b.provenance["command"]
    capsys.readouterr()
    assert main(["basis", "info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "123.2000 MHz" in text and "30 ms" in text and "mI" in text
    assert main(["basis", "convert", str(out), "-o", str(tmp_path / "p30.BASIS")]) == 0
    assert main(["basis", "convert", str(tmp_path / "p30.BASIS"), "-o", str(tmp_path / "fsl"),
                 "--format", "fsl"]) == 0
    back = load_basis(tmp_path / "fsl")
    np.testing.assert_allclose(back.select(b.names).fids, b.fids, atol=1e-4)


def test_mega_press_writes_on_off_diff(tmp_path):
    rc = main(["basis", "simulate", "--sequence", "mega-press", "--te", "68", "--edit-ppm", "1.9",
               "--field-mhz", "123.2", "--points", "256", "--metabolites", "GABA",
               "-o", str(tmp_path / "mega.BASIS")])
    assert rc == 0
    on, off, diff = (load_basis(tmp_path / f"mega_{s}.BASIS") for s in ("on", "off", "diff"))
    np.testing.assert_allclose(diff.fids, on.fids - off.fids, atol=1e-4)


def test_errors_are_one_line_exit_2(tmp_path, capsys):
    assert main(["basis", "simulate", "--sequence", "mega-press", "--te", "68", "--field-mhz",
                 "123.2", "-o", str(tmp_path / "x")]) == 2
    assert main(["basis", "simulate", "--sequence", "press", "--te", "30", "--field-mhz", "123.2",
                 "--metabolites", "Kryptonite", "-o", str(tmp_path / "y")]) == 2
    assert main(["basis", "info", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("mrsquant basis: error:") == 3
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_shaped_refocusing_option(tmp_path, shared_data):
    pta = shared_data / "rf_pulses" / "sampleRefocPulse.pta"
    rc = main(["basis", "simulate", "--sequence", "press", "--te", "30", "--field-mhz", "123.2",
               "--points", "256", "--metabolites", "Cr", "--refocusing-pulse", str(pta),
               "-o", str(tmp_path / "shaped")])
    assert rc == 0
    b = load_basis(tmp_path / "shaped")
    assert 0.8 < abs(b.fids[0, 0]) / 6.0 < 1.0          # slice-profile loss, singlets only
    assert b.provenance["refocusing_pulse"]["duration_ms"] == 5.2
    assert main(["basis", "simulate", "--sequence", "steam", "--te", "20", "--field-mhz", "123.2",
                 "--refocusing-pulse", str(pta), "-o", str(tmp_path / "bad")]) == 2
