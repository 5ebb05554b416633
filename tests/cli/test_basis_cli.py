"""``mrsquant basis`` in-process through main([...])."""
import numpy as np
import pytest

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


def _press(out, *extra):
    return main(["basis", "simulate", "--sequence", "press", "--te", "30", "--te1", "11",
                 "--te2", "19", "--field-mhz", "123.2", "--points", "512",
                 "--metabolites", "GSH,Cr", "-o", str(out), *extra])


def test_spin_variant_changes_gsh_and_is_recorded(tmp_path, capsys):
    assert _press(tmp_path / "default") == 0
    assert _press(tmp_path / "tkac", "--spin-variant", "GSH=tkac2008") == 0
    ref, alt = load_basis(tmp_path / "default"), load_basis(tmp_path / "tkac")
    assert alt.names == ref.names == ("GSH", "Cr")
    diff = np.abs(alt.fids[0] - ref.fids[0]).max()
    assert diff > 0.05 * np.abs(ref.fids[0]).max()               # GSH: another spin system
    np.testing.assert_allclose(alt.fids[1], ref.fids[1], atol=1e-9)  # Cr untouched
    assert alt.provenance["spin_variants"] == {"GSH": "tkac2008"}
    assert not ref.provenance.get("spin_variants")
    assert "--spin-variant GSH=tkac2008" in alt.provenance["command"]
    capsys.readouterr()
    assert main(["basis", "info", str(tmp_path / "tkac")]) == 0
    assert "variants   GSH=tkac2008" in capsys.readouterr().out


def test_spin_variant_alias_and_default_metabolites(tmp_path):
    # alias names map onto the canonical one; without --metabolites the defaults include Asc
    rc = main(["basis", "simulate", "--sequence", "pulse-acquire", "--field-mhz", "123.2",
               "--points", "256", "--spin-variant", "ascorbate=terpstra2006",
               "--spin-variant", "glutathione=tkac2008", "-o", str(tmp_path / "all")])
    assert rc == 0
    assert load_basis(tmp_path / "all").provenance["spin_variants"] == {
        "Asc": "terpstra2006", "GSH": "tkac2008"}


@pytest.mark.parametrize("value, words", [
    ("NAA=tkac2008", ("'NAA'", "GSH=tkac2008", "Asc=terpstra2006")),   # no variants
    ("Kryptonite=x", ("'Kryptonite'", "GSH=tkac2008")),                # unknown metabolite
    ("GSH=nope", ("'nope'", "GSH=tkac2008")),                          # unknown variant
    ("GSH", ("NAME=VARIANT",)),                                        # malformed
    ("Asc=terpstra2006", ("Asc", "--metabolites")),                    # not simulated
])
def test_bad_spin_variant_exit_2_one_line_nothing_written(tmp_path, capsys, value, words):
    out = tmp_path / "bad"
    assert _press(out, "--spin-variant", value) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mrsquant basis: error: --spin-variant")
    assert all(w in lines[0] for w in words), lines[0]
    assert "simulating" not in captured.err and not captured.out
    assert list(tmp_path.iterdir()) == []


def test_bad_spin_variant_mega_press_writes_no_state(tmp_path, capsys):
    rc = main(["basis", "simulate", "--sequence", "mega-press", "--te", "68", "--edit-ppm", "4.56",
               "--field-mhz", "123.2", "--points", "256", "--metabolites", "GSH",
               "--spin-variant", "GSH=tkac2007", "-o", str(tmp_path / "mega.BASIS")])
    assert rc == 2 and len(capsys.readouterr().err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
