"""Shaped (adiabatic) sLASER refocusing: expectations computed independently from the pulse."""
import numpy as np
import pytest

from mrsquant import axes
from mrsquant.basis.pulses import adiabatic_b1_hz, read_pulse, read_rf, spinor_rotations
from mrsquant.basis.simulate import sequence_events, simulate_basis, simulate_group
from mrsquant.basis.spin_systems import SpinGroup
from mrsquant.cli import main
from mrsquant.errors import InputError

F0, T, CARRIER = 123.2, 5.2e-3, 3.0
KW = dict(te_ms=30, field_mhz=F0, n_points=2048, bandwidth_hz=4000, lw_hz=2)


@pytest.fixture(scope="module")
def rf_path(shared_data):
    return shared_data / "rf_pulses" / "sampleAFPpulse_HS2_R15.RF"


@pytest.fixture(scope="module")
def afp(rf_path):
    p = read_rf(rf_path)
    return p, adiabatic_b1_hz(p, duration_s=T)


def _beta(afp, ppm, x):
    """beta (Cayley-Klein) of the AFP for a spin at ``ppm`` and slice positions ``x``."""
    p, b1 = afp
    R = spinor_rotations(p, duration_s=T, flip_deg=180, b1_max_hz=b1,
                         offsets_hz=(ppm - CARRIER) * F0 + np.asarray(x) * p.bandwidth_hz(T))
    return R[..., 1, 0]


def _in_slice_fraction(afp, ppm, n=4001, span=3.0):
    """Echo amplitude of one refocusing direction (a pair at the same position x):
    a coherence -1 -> +1 -> -1 through rotations with beta1, beta2 picks up
    (conj(beta1) beta2)^2 = |beta|^4 for identical pulses; averaged over the same
    +-1.5 slice-thickness window the simulator uses."""
    x = -span / 2 + (np.arange(n) + 0.5) * span / n
    return np.sum(np.abs(_beta(afp, ppm, x)) ** 4) * span / n


def _corr(a, b, ppm):
    w = (ppm > 0.2) & (ppm < 4.2)
    sa, sb = axes.to_spectrum(a)[w], axes.to_spectrum(b)[w]
    return abs(np.vdot(sa, sb)) / np.linalg.norm(sa) / np.linalg.norm(sb)


def test_read_rf(rf_path, tmp_path):
    p = read_rf(rf_path)
    assert p.waveform.size == 512 and p.bwtp == 15.0 and p.adiabatic
    assert np.max(np.abs(p.waveform)) == pytest.approx(1.0)
    assert read_pulse(rf_path).bwtp == 15.0
    # frequency sweep from the phase column (degrees): +-R/(2T) at the ends
    sweep = np.diff(np.unwrap(np.angle(p.waveform))) / (2 * np.pi * T / 512)
    assert np.max(np.abs(sweep)) == pytest.approx(15 / (2 * T), rel=0.02)
    bad = {"short.RF": "# INVERTWIDTH 15\n1 2 1\n1 2\n",
           "noheader.RF": "0 1 1\n0 1 1\n0 1 1\n0 1 1\n0 1 1\n",
           "steps.RF": "# R= 15\n" + "0 1 1\n" * 4 + "0 1 2\n",
           "text.RF": "# R= 15\nphase amp step\n"}
    for name, text in bad.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(InputError) as e:
            read_rf(tmp_path / name)
        assert "\n" not in str(e.value) and name in str(e.value)


def test_default_b1_is_adiabatic(afp):
    p, b1 = afp
    assert 700 < b1 < 1000                              # 844 Hz (19.8 uT) at 5.2 ms
    x = np.linspace(-0.25, 0.25, 51)
    assert np.min(np.abs(_beta(afp, CARRIER, x)) ** 2) >= 0.99
    # adiabatic: doubling B1 changes the inversion inside the band by < 1 %
    R = spinor_rotations(p, duration_s=T, flip_deg=180, b1_max_hz=2 * b1,
                         offsets_hz=x * p.bandwidth_hz(T))
    np.testing.assert_allclose(np.abs(R[:, 1, 0]) ** 2, np.abs(_beta(afp, CARRIER, x)) ** 2,
                               atol=0.01)


@pytest.mark.parametrize("ppm", [0.2, 3.0, 4.2])
def test_afp_pair_cancels_the_phase(afp, ppm):
    """(1) One AFP leaves a position-dependent phase; the identical second one cancels it."""
    x = np.linspace(-0.25, 0.25, 101)                   # inside the slice (edges +-0.38)
    b = _beta(afp, ppm, x)
    single = -np.conj(b) ** 2                           # I- -> I+ factor of one pulse
    pair = single * -(b ** 2)                           # ... and back to I- by the second
    assert np.ptp(np.unwrap(np.angle(single))) > 1.0    # radians across the central half
    assert abs(np.mean(single)) < 0.9                   # partly cancels itself
    assert abs(np.mean(pair)) == pytest.approx(1.0, abs=0.02)
    np.testing.assert_allclose(np.angle(pair), 0, atol=1e-9)
    # outside the slice the pair does not refocus
    out = np.abs(_beta(afp, ppm, np.array([-1.0, -0.8, 0.8, 1.0]))) ** 4
    assert np.all(out < 0.05)


@pytest.mark.parametrize("ppm", [0.2, 1.3, 3.0, 4.2])
def test_singlet_amplitude_and_phase_across_offsets(afp, rf_path, ppm):
    """The simulator's one-spin sLASER echo: real, flat phase, amplitude = F^2 with F the
    in-slice fraction of the pair profile (one factor per direction); with a single AFP per
    direction (PRESS timing) the phase dispersion destroys most of it."""
    p, b1 = afp
    spin = SpinGroup(np.array([ppm]), ("1H",), np.zeros((1, 1)))
    ref = (p, T, CARRIER, 81, b1)
    shaped = sequence_events("slaser", te_ms=30, refocusing=ref)
    ideal = sequence_events("slaser", te_ms=30)
    _, a_s = simulate_group(spin, shaped, field_mhz=F0)
    _, a_i = simulate_group(spin, ideal, field_mhz=F0)
    ratio = a_s.sum() / a_i.sum()
    assert abs(np.angle(ratio)) < 1e-6
    F = _in_slice_fraction(afp, ppm)
    assert abs(ratio) == pytest.approx(F ** 2, abs=0.003)
    assert 0.88 < F < 0.95                # ~1 slice thickness of a 3-thickness window
    _, a_p = simulate_group(spin, sequence_events("press", te_ms=30, refocusing=ref),
                            field_mhz=F0)
    assert abs(a_p.sum() / a_i.sum()) < 0.2


def test_cr_singlet_shaped_vs_ideal(afp, rf_path):
    """(2) Cr: same spectrum as ideal sLASER (r >= 0.999), scaled by the in-slice fraction."""
    ideal = simulate_basis("slaser", metabolites=["Cr"], **KW)
    shaped = simulate_basis("slaser", metabolites=["Cr"], refocusing_pulse=rf_path, **KW)
    assert _corr(shaped.fids[0], ideal.fids[0], ideal.ppm) >= 0.999
    ratio = shaped.fids[0, 0] / ideal.fids[0, 0]
    np.testing.assert_allclose(shaped.fids[0], ratio * ideal.fids[0], atol=1e-3)  # same shape
    assert abs(np.angle(ratio)) < 1e-4                                            # flat phase
    assert abs(ratio) == pytest.approx(_in_slice_fraction(afp, 3.027) ** 2, abs=0.003)
    prov = shaped.provenance["refocusing_pulse"]
    assert prov["b1_max_hz"] == pytest.approx(afp[1], abs=0.1) and prov["duration_ms"] == 5.2


def test_coupled_spins_stay_close_to_ideal(rf_path, shared_data):
    """(3) TE 30: Lac and Glu with adiabatic sLASER stay highly correlated with ideal sLASER
    (measured 0.9938, 0.9977), clearly closer than shaped PRESS is to ideal PRESS with the
    Mao refocusing pulse (0.913, 0.993): less chemical-shift displacement (BW 2.9 kHz)."""
    mets = ["Lac", "Glu"]
    ideal = simulate_basis("slaser", metabolites=mets, **KW)
    shaped = simulate_basis("slaser", metabolites=mets, refocusing_pulse=rf_path, **KW)
    c = [_corr(shaped.fids[i], ideal.fids[i], ideal.ppm) for i in range(2)]
    assert c[0] >= 0.99 and c[1] >= 0.995
    pta = shared_data / "rf_pulses" / "sampleRefocPulse.pta"
    pi = simulate_basis("press", metabolites=["Lac"], **KW)
    ps = simulate_basis("press", metabolites=["Lac"], refocusing_pulse=pta, **KW)
    assert _corr(ps.fids[0], pi.fids[0], pi.ppm) < c[0] - 0.05


def test_timing_validation_and_default_unchanged(afp):
    p, b1 = afp
    with pytest.raises(InputError, match="TE/4"):
        sequence_events("slaser", te_ms=20, refocusing=(p, 5.2e-3, 3.0, 41, b1))
    ev = sequence_events("slaser", te_ms=20.8, refocusing=(p, 5.2e-3, 3.0, 41, b1))
    assert [e[-1] for e in ev if e[0] == "shaped"] == ["open", "close", "open", "close"]
    assert not any(e[0] in ("shaped", "filter") for e in sequence_events("slaser", te_ms=30))
    with pytest.raises(InputError):
        sequence_events("steam", te_ms=30, refocusing=(p, 5.2e-3, 3.0, 41, b1))


def test_cli_slaser_refocusing_pulse(rf_path, tmp_path, capsys):
    out = tmp_path / "sl"
    assert main(["basis", "simulate", "--sequence", "slaser", "--te", "30", "--field-mhz", "123.2",
                 "--points", "512", "--metabolites", "Cr", "--refocusing-pulse", str(rf_path),
                 "--refocusing-b1-hz", "900", "-o", str(out)]) == 0
    from mrsquant.basis.io import load_basis
    b = load_basis(out)
    assert b.provenance["refocusing_pulse"]["b1_max_hz"] == 900.0
    assert 0.8 < abs(b.fids[0, 0]) / 6.0 < 0.9
    capsys.readouterr()
    assert main(["basis", "simulate", "--sequence", "slaser", "--te", "16", "--field-mhz", "123.2",
                 "--metabolites", "Cr", "--refocusing-pulse", str(rf_path),
                 "-o", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err.strip()
    assert "TE/4" in err and len(err.splitlines()) == 1 and not (tmp_path / "bad").exists()
    (tmp_path / "broken.RF").write_text("# R= 15\n0 1\n")
    assert main(["basis", "simulate", "--sequence", "slaser", "--te", "30", "--field-mhz", "123.2",
                 "--metabolites", "Cr", "--refocusing-pulse", str(tmp_path / "broken.RF"),
                 "-o", str(tmp_path / "bad2")]) == 2
    err = capsys.readouterr().err.strip()
    assert "broken.RF" in err and len(err.splitlines()) == 1 and not (tmp_path / "bad2").exists()
