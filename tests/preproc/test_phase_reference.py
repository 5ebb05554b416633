"""Zero-order phasing and ppm referencing, including the 0.17 ppm mis-reference case."""
import numpy as np
import pytest

from mrsquant import axes
from mrsquant.preproc import check_reference, phase_zero_order, reference_ppm, shift_phase

from . import sim


@pytest.fixture(scope="module")
def clean(shared_data):
    return sim.spectra_of(sim.challenge_fid(shared_data))


def test_correct_spectrum_passes_the_check(clean):
    info = check_reference(clean)
    assert info["ok"], info["message"]
    assert abs(info["offset_ppm"]) < 0.01
    assert info["peaks_ppm"]["NAA"] == pytest.approx(2.008, abs=0.01)


@pytest.mark.parametrize("offset_ppm", [0.17, -0.17, 0.3, -0.08])
def test_misreferenced_spectrum_is_caught_and_fixed(clean, offset_ppm):
    # moving peaks to higher ppm = negative hz shift
    bad = shift_phase(clean, shift_hz=-offset_ppm * clean.spectrometer_frequency_mhz)
    info = check_reference(bad)
    assert not info["ok"]
    assert "mis-referenced" in info["message"]
    assert info["offset_ppm"] == pytest.approx(offset_ppm, abs=0.01)
    fixed, rinfo = reference_ppm(bad)
    ppm = fixed.ppm
    sp = np.abs(fixed.spectrum())
    naa = ppm[axes.ppm_window(ppm, (1.8, 2.2))][np.argmax(sp[axes.ppm_window(ppm, (1.8, 2.2))])]
    assert naa == pytest.approx(2.008, abs=0.01)
    assert check_reference(fixed)["ok"]


def test_zero_order_phase_recovered(clean):
    for phase in (-150.0, -40.0, 25.0, 170.0):
        rotated = shift_phase(clean, phase_deg=phase)
        out, info = phase_zero_order(rotated)
        base = phase_zero_order(clean)[1]["phase_deg"]
        assert ((info["phase_deg"] - base - phase + 180) % 360 - 180) == pytest.approx(0, abs=0.5)
        np.testing.assert_allclose(out.data, phase_zero_order(clean)[0].data, atol=1e-9 * np.abs(clean.data).max())
