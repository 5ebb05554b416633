"""The basis sets in data/basis are what make_basis_sets.sh says they are."""
from pathlib import Path

import numpy as np
import pytest

from mrsquant.basis.io import load_basis
from mrsquant.basis.simulate import simulate_basis

DATA = Path(__file__).resolve().parents[2] / "data" / "basis"
SETS = {
    "press_te30_3T": dict(sequence="press", te_ms=30, te1_ms=11, te2_ms=19),
    "press_te35_3T": dict(sequence="press", te_ms=35, te1_ms=13, te2_ms=22),
    "slaser_te30_3T": dict(sequence="slaser", te_ms=30),
    "slaser_te40_3T": dict(sequence="slaser", te_ms=40),
    "steam_te20_tm10_3T": dict(sequence="steam", te_ms=20, tm_ms=10),
    "megapress_te68_gaba_3T_diff": dict(sequence="mega-press", te_ms=68, edit_ppm=1.9),
    "megapress_te80_gaba_3T_on": dict(sequence="mega-press", te_ms=80, edit_ppm=1.9,
                                      edit_state="on"),
    "megapress_te120_gsh_3T_off": dict(sequence="mega-press", te_ms=120, edit_ppm=4.56,
                                       edit_state="off"),
}


@pytest.mark.parametrize("name", sorted(SETS))
def test_shipped_set_matches_a_fresh_simulation(name):
    b = load_basis(DATA / name)
    assert len(b.names) == 22 and b.n_points == 2048
    assert b.spectrometer_frequency_mhz == 123.2 and b.dwelltime_s == pytest.approx(1 / 4000)
    kw = dict(SETS[name])
    fresh = simulate_basis(kw.pop("sequence"), field_mhz=123.2, n_points=2048, bandwidth_hz=4000,
                           metabolites=["Lac", "GABA"], **kw)
    np.testing.assert_allclose(b.select(["Lac", "GABA"]).fids, fresh.fids, atol=1e-5)


def test_data_folder_is_small():
    size = sum(f.stat().st_size for f in DATA.rglob("*") if f.is_file())
    assert size < 6e6
