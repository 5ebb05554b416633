"""Shaped MEGA editing pulses: expectations computed independently from the pulse response."""
import numpy as np
import pytest

from mrsquant import axes
from mrsquant.basis.pulses import inversion_profile, kron_rotations, read_pta, spinor_rotations
from mrsquant.basis.simulate import sequence_events, simulate_basis
from mrsquant.cli import main
from mrsquant.errors import InputError

F0 = 123.2
KW = dict(te_ms=68, field_mhz=F0, n_points=4096, bandwidth_hz=4000, edit_ppm=1.9, lw_hz=2)


@pytest.fixture(scope="module")
def edit_path(shared_data):
    return shared_data / "rf_pulses" / "sampleEditPulse.pta"


def _area(b, name, lo, hi):
    s = axes.to_spectrum(b.fids[b.names.index(name)]).real
    return s[(b.ppm > lo) & (b.ppm < hi)].sum()


def _sets(path, ms, mets, **extra):
    return {st: simulate_basis("mega-press", edit_state=st, metabolites=mets, editing_pulse=path,
                               editing_ms=ms, **KW, **extra) for st in ("off", "diff")}


def test_on_resonance_spin_is_inverted(edit_path):
    p = read_pta(edit_path)
    assert inversion_profile(p, duration_s=14e-3, offsets_hz=np.array([0.0]))[0] == \
        pytest.approx(1.0, abs=1e-9)
    # two spins: one on resonance (inverted), one 1.13 ppm away (only the sidelobe |beta|^2)
    offs = np.array([0.0, (3.027 - 1.9) * F0])
    r = spinor_rotations(p, duration_s=14e-3, flip_deg=180, offsets_hz=offs)
    R = kron_rotations(r)
    iz0, iz1 = np.diag([0.5, 0.5, -0.5, -0.5]), np.diag([0.5, -0.5, 0.5, -0.5])
    out0, out1 = R @ iz0 @ R.conj().T, R @ iz1 @ R.conj().T
    np.testing.assert_allclose(out0, -iz0, atol=1e-9)
    b1 = np.abs(r[1, 1, 0]) ** 2
    assert np.trace(out1 @ iz1).real == pytest.approx((1 - 2 * b1) * 1.0, abs=1e-12)


def test_far_singlet_unchanged_and_naa_partly_edited(edit_path):
    """ON - OFF of a singlet with inversion fraction b at both editing pulses:
    echo = (1-b)^2 + b^2 (neither or both pulses refocus it) -> DIFF / OFF = -2 b (1 - b)."""
    p = read_pta(edit_path)
    for ms, extra, cr_tol in ((20, {"te1_ms": 10}, 1e-3), (14, {}, 2e-2)):
        b = _sets(edit_path, ms, ["Cr", "NAA"], **extra)
        beta = inversion_profile(p, duration_s=ms * 1e-3,
                                 offsets_hz=(np.array([3.027, 2.008]) - 1.9) * F0)
        cr = _area(b["diff"], "Cr", 2.9, 3.15) / _area(b["off"], "Cr", 2.9, 3.15)
        naa = _area(b["diff"], "NAA", 1.9, 2.1) / _area(b["off"], "NAA", 1.9, 2.1)
        assert abs(cr) < cr_tol
        assert cr == pytest.approx(-2 * beta[0] * (1 - beta[0]), abs=1e-4)
        assert naa < -0.05                                   # NAA now appears (negative) in DIFF
        assert naa == pytest.approx(-2 * beta[1] * (1 - beta[1]), rel=0.03)


def test_gaba_diff_close_to_ideal(edit_path):
    shaped = _sets(edit_path, 14, ["GABA"])["diff"]
    ideal = simulate_basis("mega-press", edit_state="diff", metabolites=["GABA"], **KW)
    ratio = _area(shaped, "GABA", 2.85, 3.15) / _area(ideal, "GABA", 2.85, 3.15)
    assert ratio == pytest.approx(1.0, abs=0.02)         # measured 0.996 (14 ms, 86 Hz FWHM)


def test_timing_validation_and_default_unchanged(edit_path):
    p = read_pta(edit_path)
    with pytest.raises(InputError, match="does not fit"):
        sequence_events("mega-press", te_ms=68, edit_ppm=1.9, editing=(p, 0.020))  # max 19 ms
    sequence_events("mega-press", te_ms=68, te1_ms=10, edit_ppm=1.9, editing=(p, 0.020))
    with pytest.raises(InputError):
        simulate_basis("press", te_ms=30, field_mhz=F0, n_points=256, bandwidth_hz=2000,
                       metabolites=["Cr"], editing_pulse=edit_path)
    ev = sequence_events("mega-press", te_ms=68, edit_ppm=1.9)
    assert not any(e[0] in ("edit", "filter") for e in ev)


def test_cli_editing_pulse(edit_path, tmp_path, capsys):
    from mrsquant.basis.io import load_basis
    out = tmp_path / "b"
    rc = main(["basis", "simulate", "--sequence", "mega-press", "--te", "68", "--field-mhz", "123.2",
               "--points", "512", "--bandwidth", "2000", "--metabolites", "GABA", "--edit-ppm", "1.9",
               "--edit-state", "diff", "--editing-pulse", str(edit_path), "--editing-ms", "14",
               "-o", str(out)])
    assert rc == 0
    b = load_basis(out)
    assert b.provenance["editing_pulse"]["duration_ms"] == 14
    rc = main(["basis", "simulate", "--sequence", "mega-press", "--te", "68", "--field-mhz", "123.2",
               "--points", "512", "--metabolites", "GABA", "--edit-ppm", "1.9",
               "--editing-pulse", str(edit_path), "--editing-ms", "25", "-o", str(tmp_path / "c")])
    assert rc == 2
    assert not (tmp_path / "c_on").exists()
