"""Simulated PRESS TE 30 basis against the ISMRM fitting challenge basis (ideal pulses).

The challenge entries carry a ~2 Hz Lorentzian line and a small frequency offset;
both are fitted once on Cr. The challenge was simulated from a different parameter
table (docs/basis.md, "Challenge comparison"): its GSH cysteine moiety is Tkac 2008's
and its ascorbate Terpstra 2006's (both available as cited ``spin_variants``), and
its Gln/Asp/Glu/GABA shifts differ from Govindaraju's by <= 0.01 ppm. The
per-metabolite check therefore allows one frequency offset (|shift| <= 1.5 Hz) per
metabolite, nothing else.
"""
import numpy as np
import pytest
from scipy.optimize import minimize, minimize_scalar

from mrsquant import axes
from mrsquant.basis.io import load_basis
from mrsquant.basis.simulate import (
    _global_phase,
    lines_to_fid,
    sequence_events,
    simulate_basis,
    simulate_group,
)
from mrsquant.basis.spin_systems import SpinGroup, spin_system

T = np.arange(2048) / 4000.0
PPM = axes.ppm_axis(2048, 1 / 4000.0, 123.2)
WIN = (PPM > 0.2) & (PPM < 4.2)
THRESH = {"Cr": 0.999, "sI": 0.999, "PCr": 0.997,
          **{n: 0.98 for n in ("NAA", "NAAG", "GPC", "PCh", "Glu", "GABA", "Tau", "mI", "Lac",
                               "Ala", "PE", "Gly", "Glc")}}
# below 0.98 with the default (Govindaraju) table because the challenge used other values
# (test_table_explains_..., test_gsh_cysteine_is_tkac_2008)
TABLE_LIMITED = {"Gln": 0.95, "Asp": 0.94, "GSH": 0.91}
#: the challenge's exact line: 2.000 Hz Lorentzian, no offset (from its own singlets)
EXACT_LW, EXACT_SHIFT = 2.0, 0.0


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


def _group_spec(groups, lw=EXACT_LW, shift=EXACT_SHIFT, sel=WIN):
    ev = sequence_events("press", te_ms=30, te1_ms=11, te2_ms=19)
    fs, As = zip(*(simulate_group(g, ev, field_mhz=123.2) for g in groups))
    fid = lines_to_fid(np.concatenate(fs), np.concatenate(As), n_points=2048,
                       dwelltime_s=1 / 4000.0) / _global_phase(ev, 123.2, axes.WATER_PPM)
    return axes.to_spectrum(fid * np.exp(-np.pi * lw * T - 2j * np.pi * shift * T))[sel].real


def _ref(ref, name, sel=WIN):
    return axes.to_spectrum(ref.fids[ref.names.index(name)])[sel].real


def test_exact_line_and_axis_from_the_challenge_singlets(pair):
    """Cr singlets at the challenge's positions (3.0233/3.9096 ppm), 2.000 Hz, no offset:
    the challenge's line and ppm axis are then reproduced exactly."""
    _, ref, _ = pair
    cr = [SpinGroup(np.array([p]), ("1H",), np.zeros((1, 1)), k)
          for p, k in ((3.0233, 3.0), (3.9096, 2.0))]
    assert _corr(_group_spec(cr), _ref(ref, "Cr")) >= 0.99999


@pytest.mark.parametrize("name, expected", [("Gln", 0.9995), ("Glu", 0.9995), ("Asp", 0.995)])
def test_table_explains_the_remaining_difference(pair, name, expected):
    """With the challenge's exact line and axis, refitting only the 1H shifts of our spin
    system (J fixed) reproduces the challenge entry: the simulator's physics matches, the
    shift table does not (the challenge's shifts are within 0.01 ppm of Govindaraju's)."""
    _, ref, _ = pair
    r = _ref(ref, name)
    g = spin_system(name)[0]
    h = g.proton_mask

    def model(d):
        sh = g.shifts_ppm.copy()
        sh[h] += d
        return _group_spec([SpinGroup(sh, g.nuclei, g.j_hz, g.scale)])
    start = _corr(model(np.zeros(h.sum())), r)
    res = minimize(lambda d: -_corr(model(d), r), np.zeros(h.sum()), method="Nelder-Mead",
                   options={"maxiter": 1500, "xatol": 1e-5, "fatol": 1e-8})
    assert start < 0.99 and -res.fun >= expected
    assert np.abs(res.x).max() < 0.01          # shifts move by < 0.01 ppm


def test_geminal_sign_is_not_the_cause(pair):
    """Positive instead of negative geminal couplings makes Gln and Glu worse, not better."""
    _, ref, _ = pair
    for name in ("Gln", "Glu"):
        g = spin_system(name)[0]
        flipped = SpinGroup(g.shifts_ppm, g.nuclei, np.abs(g.j_hz), g.scale)
        r = _ref(ref, name)
        assert _corr(_group_spec([flipped]), r) < _corr(_group_spec([g]), r)


def test_gsh_cysteine_is_tkac_2008(pair):
    """4.45-4.70 ppm holds only GSH's cysteine CH: Tkac 2008's values reproduce the
    challenge there, Govindaraju 2000's do not."""
    _, ref, _ = pair
    sel = (PPM > 4.45) & (PPM < 4.70)
    r = _ref(ref, "GSH", sel)
    cys = {v: next(g for g in spin_system("GSH", variant=v) if len(g.shifts_ppm) == 3)
           for v in (None, "tkac2008")}
    assert _corr(_group_spec([cys["tkac2008"]], sel=sel), r) >= 0.9999
    assert _corr(_group_spec([cys[None]], sel=sel), r) < 0.5


@pytest.mark.parametrize("name, variant, expected", [("Asc", "terpstra2006", 0.999),
                                                      ("GSH", "tkac2008", 0.925)])
def test_cited_variants_against_challenge(pair, name, variant, expected):
    sim, ref, (lw, shift) = pair
    alt = simulate_basis("press", te_ms=30, te1_ms=11, te2_ms=19, field_mhz=123.2,
                         n_points=2048, bandwidth_hz=4000, metabolites=[name],
                         spin_variants={name: variant})
    r = _ref(ref, name)

    def best(fid):
        return -minimize_scalar(lambda s: -_corr(_spec(fid, lw, shift + s), r),
                                bounds=(-1.5, 1.5), method="bounded").fun
    default = best(sim.fids[sim.names.index(name)])
    assert best(alt.fids[0]) >= max(expected, default + 0.01)
