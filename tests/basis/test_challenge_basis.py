"""Simulated PRESS TE 30 basis against the ISMRM fitting challenge basis (ideal pulses).

The challenge entries carry a ~2 Hz Lorentzian line and a small frequency offset;
both are fitted once on Cr. The challenge was simulated from a slightly different
parameter table (docs/basis.md, "Challenge comparison"), which moves individual
metabolites by a few tenths of a Hz; the per-metabolite check therefore allows one
frequency offset (|shift| <= 1.5 Hz) per metabolite, nothing else.
"""
import numpy as np
import pytest
from scipy.optimize import minimize, minimize_scalar

from mrsquant import axes
from mrsquant.basis.io import load_basis
from mrsquant.basis.simulate import lines_to_fid, sequence_events, simulate_basis, simulate_group
from mrsquant.basis.spin_systems import SpinGroup, spin_system

T = np.arange(2048) / 4000.0
PPM = axes.ppm_axis(2048, 1 / 4000.0, 123.2)
WIN = (PPM > 0.2) & (PPM < 4.2)
THRESH = {"Cr": 0.999, "sI": 0.999, "PCr": 0.997,
          **{n: 0.98 for n in ("NAA", "NAAG", "GPC", "PCh", "Glu", "GABA", "Tau", "mI", "Lac",
                               "Ala", "PE", "Gly", "Glc")}}
# below 0.98 because of the challenge's parameter table (see test_table_explains_...)
TABLE_LIMITED = {"Gln": 0.95, "Asp": 0.94, "GSH": 0.91}


def _corr(a, b):
    a, b = a - a.mean(), b - b.mean()
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def _spec(fid, lw, shift):
    return axes.to_spectrum(fid * np.exp(-np.pi * lw * T - 2j * np.pi * shift * T))[WIN].real


@pytest.fixture(scope="module")
def pair(challenge):
    ref = load_basis(challenge / "basisset_text_noTMS")
    names = [n for n in ref.names if n != "Mac"]
    sim = simulate_basis("press", te_ms=30, te1_ms=11, te2_ms=19, field_mhz=123.2,
                         n_points=2048, bandwidth_hz=4000, metabolites=names)
    i, j = sim.names.index("Cr"), ref.names.index("Cr")
    r = axes.to_spectrum(ref.fids[j])[WIN].real
    res = minimize(lambda p: -_corr(_spec(sim.fids[i], *p), r), [2.0, 0.0], method="Nelder-Mead")
    return sim, ref, res.x


def test_cr_line_and_offset(pair):
    sim, ref, (lw, shift) = pair
    assert 1.5 < lw < 2.5 and abs(shift) < 1.0     # "~2 Hz Lorentzian, small offset"
    r = axes.to_spectrum(ref.fids[ref.names.index("Cr")])[WIN].real
    assert _corr(_spec(sim.fids[sim.names.index("Cr")], lw, shift), r) >= 0.999


@pytest.mark.parametrize("name", list(THRESH) + list(TABLE_LIMITED))
def test_correlation_with_challenge_basis(pair, name):
    sim, ref, (lw, shift) = pair
    r = axes.to_spectrum(ref.fids[ref.names.index(name)])[WIN].real
    fid = sim.fids[sim.names.index(name)]
    best = minimize_scalar(lambda s: -_corr(_spec(fid, lw, shift + s), r), bounds=(-1.5, 1.5),
                           method="bounded")
    assert -best.fun >= THRESH.get(name, TABLE_LIMITED.get(name))


@pytest.mark.parametrize("name", ["Gln", "Asp"])
def test_table_explains_the_remaining_difference(pair, name):
    """Refitting only the 1H shifts (J fixed) of our spin system to the challenge spectrum
    reaches >= 0.995: the simulator's physics matches, the parameter table does not."""
    sim, ref, (lw, shift) = pair
    r = axes.to_spectrum(ref.fids[ref.names.index(name)])[WIN].real
    g = spin_system(name)[0]
    h = g.proton_mask
    ev = sequence_events("press", te_ms=30, te1_ms=11, te2_ms=19)

    def model(d):
        sh = g.shifts_ppm.copy()
        sh[h] += d
        f, a = simulate_group(SpinGroup(sh, g.nuclei, g.j_hz, g.scale), ev, field_mhz=123.2)
        return _spec(lines_to_fid(f, a, n_points=2048, dwelltime_s=1 / 4000.0), lw, shift)
    start = _corr(model(np.zeros(h.sum())), r)
    res = minimize(lambda d: -_corr(model(d), r), np.zeros(h.sum()), method="Nelder-Mead",
                   options={"maxiter": 600, "xatol": 1e-4, "fatol": 1e-6})
    assert start < 0.99 and -res.fun >= 0.995
    assert np.abs(res.x).max() < 0.03          # shifts move by < 0.03 ppm
