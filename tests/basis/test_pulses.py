"""Shaped refocusing pulses: Bloch rotations and the four-compartment effect of PRESS."""
import numpy as np
import pytest

from mrsquant import axes
from mrsquant.basis.pulses import ShapedPulse, read_pta, spinor_rotations
from mrsquant.basis.simulate import simulate_basis
from mrsquant.errors import InputError


def test_rectangular_pulse_matches_the_analytic_inversion_profile():
    T = 2e-3
    pulse = ShapedPulse(np.ones(200, complex), bwtp=1.0)
    off = np.linspace(-2000, 2000, 81)
    R = spinor_rotations(pulse, duration_s=T, flip_deg=180, offsets_hz=off)
    w1 = np.pi / T                                   # 180 degrees in T
    weff = np.sqrt(w1 ** 2 + (2 * np.pi * off) ** 2)
    expect = (w1 / weff) ** 2 * np.sin(weff * T / 2) ** 2
    np.testing.assert_allclose(np.abs(R[:, 1, 0]) ** 2, expect, atol=1e-9)
    # unitary, and on resonance a 180 about x: [[0, -i], [-i, 0]]
    np.testing.assert_allclose(R[40], [[0, -1j], [-1j, 0]], atol=1e-9)
    np.testing.assert_allclose(R @ np.conj(np.swapaxes(R, 1, 2)), np.broadcast_to(np.eye(2), R.shape),
                               atol=1e-9)


def test_read_pta(shared_data):
    p = read_pta(shared_data / "rf_pulses" / "sampleRefocPulse.pta")
    assert p.waveform.size == 400
    assert p.bwtp == pytest.approx(6.0, abs=0.01)     # the file's comment: BWTP 6.000
    with pytest.raises(InputError):
        read_pta(shared_data / "rf_pulses" / "sampleAFPpulse_HS2_R15.RF")


def test_press_lactate_four_compartment_effect(shared_data):
    """TE 144, TE1 4 ms: the CH3 doublet is inverted where the first pulse also flips the CH
    (4.10 ppm) and upright where it does not (chemical-shift displacement), so with
    |beta|^2 the inversion profile: S / S_ideal = int bA(1 - 2 bX) dx * int bA dy."""
    path = shared_data / "rf_pulses" / "sampleRefocPulse.pta"
    kw = dict(te_ms=144, te1_ms=4, te2_ms=140, field_mhz=123.2, n_points=2048, bandwidth_hz=4000,
              metabolites=["Lac", "Ace"], lw_hz=3)
    ideal = simulate_basis("press", **kw)
    shaped = simulate_basis("press", refocusing_pulse=path, refocusing_ms=5.2, n_positions=81, **kw)
    w = (ideal.ppm > 1.2) & (ideal.ppm < 1.45)
    ratio = (axes.to_spectrum(shaped.fids[0]).real[w].sum()
             / axes.to_spectrum(ideal.fids[0]).real[w].sum())
    p = read_pta(path)
    n, span = 2001, 3.0
    x = -span / 2 + (np.arange(n) + 0.5) * span / n
    bw = p.bandwidth_hz(5.2e-3)

    def b2(ppm):
        R = spinor_rotations(p, duration_s=5.2e-3, flip_deg=180,
                             offsets_hz=(ppm - 3.0) * 123.2 + x * bw)
        return np.abs(R[:, 1, 0]) ** 2
    bA, bX = b2(1.3142), b2(4.0974)
    predicted = -np.sum(bA * (1 - 2 * bX)) * span / n * np.sum(bA) * span / n
    assert ratio == pytest.approx(predicted, abs=0.02)
    assert 0.25 < ratio < 0.45                  # far from the ideal 1: lactate loss at 3T
    # a singlet only loses the slice-profile factor (int bA)^2, its shape is unchanged
    singlet = shaped.fids[1] / ideal.fids[1]
    np.testing.assert_allclose(singlet, singlet[0], atol=1e-9)
    assert abs(singlet[0]) == pytest.approx((np.sum(b2(1.904)) * span / n) ** 2, abs=0.01)
