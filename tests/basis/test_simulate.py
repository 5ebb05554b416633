"""Density-matrix simulator against analytic results."""
import numpy as np
import pytest

from mrsquant import axes
from mrsquant.basis.simulate import MACROMOLECULES, gaussian_fid, sequence_events, simulate_basis, simulate_group
from mrsquant.basis.spin_systems import SpinGroup
from mrsquant.errors import InputError

F0 = 123.2
KW = dict(field_mhz=F0, n_points=2048, bandwidth_hz=4000.0)
T = np.arange(2048) / 4000.0


def _group(shifts, J=None, nuclei=None, scale=1.0):
    n = len(shifts)
    Jm = np.zeros((n, n))
    for (i, j), v in (J or {}).items():
        Jm[i, j] = Jm[j, i] = v
    sh = np.array([np.nan if s is None else s for s in shifts], float)
    return SpinGroup(sh, tuple(nuclei or ["1H"] * n), Jm, scale)


def _lines(group, seq="pulse-acquire", **kw):
    f, a = simulate_group(group, sequence_events(seq, te_ms=kw.pop("te_ms", 30), **kw),
                          field_mhz=F0)
    keep = np.abs(a) > 1e-9
    order = np.argsort(f[keep])
    return f[keep][order], a[keep][order]


@pytest.mark.parametrize("seq,extra", [("pulse-acquire", {}), ("press", {"te1_ms": 11, "te2_ms": 19}),
                                       ("steam", {"tm_ms": 10}), ("slaser", {})])
def test_singlet_is_refocused_with_unit_amplitude_per_proton(seq, extra):
    # acetate: 3 equivalent protons at 1.904 ppm, analytic FID in our convention
    b = simulate_basis(seq, te_ms=30, metabolites=["Ace"], **extra, **KW)
    expect = 3 * np.exp(-2j * np.pi * (1.904 - 4.65) * F0 * T)
    np.testing.assert_allclose(b.fids[0], expect, atol=1e-9)


def test_spectrum_peak_at_the_right_ppm():
    b = simulate_basis("press", te_ms=30, metabolites=["Ace"], lw_hz=2, field_mhz=F0,
                       n_points=16384, bandwidth_hz=4000.0)
    spec = axes.to_spectrum(b.fids[0]).real
    assert b.ppm[np.argmax(spec)] == pytest.approx(1.904, abs=0.002)


def test_strongly_coupled_ab_lines_match_the_analytic_solution():
    # AB: delta 10 Hz, J 8 Hz -> lines at centre +-(C+-J)/2, intensities (1 -+ J/C)/2
    d_ppm = 10 / F0
    g = _group([3.0, 3.0 + d_ppm], {(0, 1): 8.0})
    f, a = _lines(g)
    C = np.hypot(10.0, 8.0)
    centre = (3.0 + d_ppm / 2 - 4.65) * F0
    np.testing.assert_allclose(f, centre + np.array([-(C + 8) / 2, -(C - 8) / 2, (C - 8) / 2,
                                                      (C + 8) / 2]), atol=1e-6)
    np.testing.assert_allclose(a.real, [(1 - 8 / C) / 2, (1 + 8 / C) / 2, (1 + 8 / C) / 2,
                                        (1 - 8 / C) / 2], atol=1e-9)


@pytest.mark.parametrize("seq", ["press", "slaser"])
def test_weakly_coupled_pair_echo_modulation(seq):
    # AX, 20 kHz apart (weak limit; at 1-3 kHz strong-coupling terms still move sLASER by 2 %):
    # non-selective refocusing leaves J evolving for the whole
    # TE, so FID(0) at the echo = 2 cos(pi J TE) for both protons, however many 180s
    g = _group([2.0, 2.0 + 20000 / F0], {(0, 1): 7.0})
    for te in (30.0, 72.0, 144.0):
        _, a = _lines(g, seq, te_ms=te)
        assert a.sum().real == pytest.approx(2 * np.cos(np.pi * 7.0 * te * 1e-3), abs=2e-3)


def test_lactate_doublet_inverted_at_te_144():
    b = simulate_basis("press", te_ms=144, metabolites=["Lac"], lw_hz=3, **KW)
    spec = axes.to_spectrum(b.fids[0]).real
    w = (b.ppm > 1.2) & (b.ppm < 1.45)
    assert spec[w].sum() < 0 and spec[w].min() < -0.5 * np.abs(spec).max()


@pytest.mark.parametrize("nucleus,n_lines", [("31P", 2), ("14N", 3)])
def test_heteronuclear_partner_splits_but_is_not_pulsed(nucleus, n_lines):
    # one proton at 3.6 ppm coupled (10 Hz) to a heteronucleus: multiplet 2I+1 equal lines
    g = _group([3.6, None], {(0, 1): 10.0}, nuclei=["1H", nucleus])
    f, a = _lines(g, "press", te1_ms=11, te2_ms=19)
    assert len(f) == n_lines
    np.testing.assert_allclose(np.diff(f), 10.0 / (2 if nucleus == "31P" else 1) * (
        2 if nucleus == "31P" else 1), atol=1e-6)
    # not touched by 1H pulses: the spin-echo refocuses the heteronuclear splitting fully
    np.testing.assert_allclose(a.real, 1.0 / n_lines, atol=1e-9)
    f2, a2 = simulate_group(g, sequence_events("press", te_ms=30), field_mhz=F0, hetero="drop")
    assert np.sum(np.abs(a2) > 1e-9) == 1 and abs(a2.sum()) == pytest.approx(1.0)


def test_steam_mixing_time_does_not_change_a_singlet_but_does_j_evolution():
    a = simulate_basis("steam", te_ms=20, tm_ms=10, metabolites=["sI", "Lac"], **KW)
    b = simulate_basis("steam", te_ms=20, tm_ms=40, metabolites=["sI", "Lac"], **KW)
    np.testing.assert_allclose(a.fids[0], b.fids[0], atol=1e-9)
    assert np.abs(a.fids[1] - b.fids[1]).max() > 1e-3


def test_mega_press_gaba_edit():
    kw = dict(te_ms=68, metabolites=["GABA", "Glu", "Gln"], lw_hz=4, **KW)
    diff = simulate_basis("mega-press", edit_ppm=1.9, edit_state="diff", **kw)
    off = simulate_basis("mega-press", edit_ppm=1.9, edit_state="off", **kw)
    on = simulate_basis("mega-press", edit_ppm=1.9, edit_state="on", **kw)
    press = simulate_basis("press", te1_ms=15, te2_ms=53, **kw)   # default MEGA TE1 = 15 ms
    np.testing.assert_allclose(off.fids, press.fids, atol=1e-9)
    np.testing.assert_allclose(diff.fids, on.fids - off.fids, atol=1e-9)
    ppm = diff.ppm
    spec = {n: axes.to_spectrum(diff.fids[i]).real for i, n in enumerate(diff.names)}
    scale = {n: np.abs(s).sum() for n, s in spec.items()}

    def area(n, lo, hi):
        return spec[n][(ppm > lo) & (ppm < hi)].sum() / scale[n]
    # J-refocused GABA H4 triplet at 3.01 ppm: positive; no GABA signal at 3.75
    assert area("GABA", 2.9, 3.1) > 0.1
    assert abs(area("GABA", 3.65, 3.85)) < 0.01
    # co-edited Glx: H2 at 3.75 and H4 at 2.25-2.45 positive (same mechanism), nothing at 3.0
    for n in ("Glu", "Gln"):
        assert area(n, 3.65, 3.85) > 0.05
        assert area(n, 2.2, 2.5) > 0.05
        assert abs(area(n, 2.9, 3.1)) < 0.01


def test_macromolecule_gaussian_width_and_position():
    b = simulate_basis("press", te_ms=30, metabolites=["MM0.92", "Lip13"], n_points=8192,
                       bandwidth_hz=1200, field_mhz=F0)
    assert b.names == ("MM092", "Lip13")
    for i, key in enumerate(("MM0.92", "Lip13")):
        ppm0, fwhm = MACROMOLECULES[key]
        spec = axes.to_spectrum(b.fids[i]).real
        assert b.ppm[np.argmax(spec)] == pytest.approx(ppm0, abs=0.001)
        above = b.ppm[spec > spec.max() / 2]
        assert above.max() - above.min() == pytest.approx(fwhm, abs=0.002)
    g = gaussian_fid(2.0, 0.1, field_mhz=F0, n_points=16, dwelltime_s=1e-3)
    assert g[0] == pytest.approx(1.0)


def test_reference_peak_and_linewidth():
    b = simulate_basis("pulse-acquire", te_ms=0, metabolites=["Gly"], reference_ppm=0.0, lw_hz=5,
                       **KW)
    expect = (2 * np.exp(-2j * np.pi * (3.548 - 4.65) * F0 * T)
              + np.exp(-2j * np.pi * (0.0 - 4.65) * F0 * T)) * np.exp(-np.pi * 5 * T)
    np.testing.assert_allclose(b.fids[0], expect, atol=1e-9)


def test_bad_requests_raise_input_error():
    with pytest.raises(InputError):
        simulate_basis("press", te_ms=30, metabolites=["Unobtainium"], **KW)
    with pytest.raises(InputError):
        simulate_basis("mega-press", te_ms=68, **KW)
    with pytest.raises(InputError):
        simulate_basis("press", te_ms=30, te1_ms=20, te2_ms=20, **KW)
    with pytest.raises(InputError):
        simulate_basis("spin-echo-2000", te_ms=30, **KW)


def test_measured_spectrum_becomes_a_basis_entry():
    from mrsquant.basis.simulate import basis_entry_from_spectra
    from mrsquant.spectra import Spectra
    fid = gaussian_fid(1.0, 0.2, field_mhz=F0, n_points=2048, dwelltime_s=1 / 8000.0)
    mm = basis_entry_from_spectra(Spectra(data=np.stack([fid, fid]), dims=("dyn",),
                                          dwelltime_s=1 / 8000.0, spectrometer_frequency_mhz=F0),
                                  name="Mac")
    b = simulate_basis("press", te_ms=30, metabolites=["Cr"], **KW).concat(mm)
    assert b.names == ("Cr", "Mac") and b.fids.shape == (2, 2048)
    # resampled to 4000 Hz: the analytic Gaussian inside the measured window, zero after
    truth = gaussian_fid(1.0, 0.2, field_mhz=F0, n_points=2048, dwelltime_s=1 / 4000.0)
    np.testing.assert_allclose(b.fids[1, :1000], truth[:1000], atol=2e-3)
    assert np.all(b.fids[1, 1024:] == 0)


def test_standard_mm_preset():
    """LCModel's standard MM/lipid set: 8 components, composites keep their internal ratios."""
    from mrsquant import axes
    from mrsquant.basis.simulate import MACROMOLECULES_STANDARD, simulate_basis

    b = simulate_basis("press", te_ms=30, field_mhz=123.2, n_points=4096, bandwidth_hz=4000,
                       metabolites=["Cr"], macromolecules="standard")
    assert b.names == ("Cr",) + tuple(MACROMOLECULES_STANDARD)
    mm20 = b.fids[b.names.index("MM20")]
    # FID(t=0) = total area = sum of the component areas (1.33 + 0.33 + 0.33 + 0.4)
    assert abs(mm20[0] - 2.39) < 1e-9
    assert b.provenance["n_protons"]["MM20"] == pytest.approx(2.39)
    spec = axes.to_spectrum(mm20).real
    ppm = b.ppm
    # the main peak sits at 2.08 ppm and the 3.0 ppm part is smaller than it
    assert abs(ppm[np.argmax(spec)] - 2.08) < 0.02
    assert spec[np.argmin(np.abs(ppm - 3.0))] < 0.5 * spec.max()
    # the standard set's lipids are its own (Lip20 is a 3-part composite of area 2.87),
    # not the consensus single Gaussians of the same names
    assert b.fids[b.names.index("Lip20")][0] == pytest.approx(2.87)
    assert b.fids[b.names.index("Lip13")][0] == pytest.approx(2.0)
    by_name = simulate_basis("press", te_ms=30, field_mhz=123.2, n_points=512, bandwidth_hz=2000,
                             metabolites=["Cr"], macromolecules=["Lip20"])
    assert by_name.fids[by_name.names.index("Lip20")][0] == pytest.approx(1.0)   # consensus
    with pytest.raises(Exception, match="consensus, standard"):
        simulate_basis("press", te_ms=30, field_mhz=123.2, n_points=512, bandwidth_hz=2000,
                       metabolites=["Cr"], macromolecules="lcm")
