"""MEGA-PRESS: simulated edited data (basis simulator) with drifts through the pipeline."""
from functools import lru_cache

import numpy as np
import pytest

from mrsquant import Spectra, axes
from mrsquant.errors import InputError
from mrsquant.preproc import detect_edit_order, edit_combinations, preprocess, split_interleaved

from . import sim

CONC = {"GABA": 1.5, "NAA": 12.0, "Cr": 4.0, "PCr": 4.0, "GPC": 1.0, "PCh": 0.5,
        "Glu": 10.0, "Gln": 3.0, "mI": 6.0}
#: a real (band-limited) 1.9 ppm editing pulse partly saturates the NAA singlet at 2.01 ppm;
#: the ideal-pulse simulator refocuses it fully, so the ON condition's NAA is scaled by hand
NAA_ON_FACTOR = 0.5
GABA_PPM = (2.8, 3.2)


@lru_cache(maxsize=1)
def mega_fids():
    from mrsquant.basis.simulate import simulate_basis

    kw = dict(te_ms=68, field_mhz=sim.F0_MHZ, n_points=2048, bandwidth_hz=1 / sim.DWELL_S,
              metabolites=list(CONC), edit_ppm=1.9, lw_hz=6.0)
    off = simulate_basis("mega-press", edit_state="off", **kw)
    on = simulate_basis("mega-press", edit_state="on", **kw)
    c_off = np.array([CONC[n] for n in off.names])
    c_on = np.array([CONC[n] * (NAA_ON_FACTOR if n == "NAA" else 1.0) for n in on.names])
    return c_off @ off.fids, c_on @ on.fids


def _interleaved(seed=0, snr_single=40.0):
    """64 transients ON, OFF, ON, ... with one random-walk drift over time, random phases;
    the drift is applied to signal and noise (same statistics, see sim.drifting_transients)."""
    f_off, f_on = mega_fids()
    n = 64
    clean = np.where((np.arange(n) % 2 == 0)[:, None], f_on[None], f_off[None])
    rng = np.random.default_rng(seed)
    ppm = axes.ppm_axis(2048, sim.DWELL_S, sim.F0_MHZ)
    height = np.abs(axes.to_spectrum(f_off))[axes.ppm_window(ppm, (1.9, 2.1))].max()
    sigma = height / snr_single / np.sqrt(2048)
    free = clean + sigma * (rng.normal(size=clean.shape) + 1j * rng.normal(size=clean.shape))
    walk = np.cumsum(rng.normal(size=n))
    walk -= walk.mean()
    shifts = walk * 8.0 / np.abs(walk).max()
    phases = rng.uniform(-30, 30, n)
    t = axes.time_axis(2048, sim.DWELL_S)
    drifted = free * np.exp(1j * (2 * np.pi * shifts[:, None] * t + np.deg2rad(phases)[:, None]))
    return drifted, free


def _gaba_area(diff_fid):
    ppm = axes.ppm_axis(diff_fid.shape[-1], sim.DWELL_S, sim.F0_MHZ)
    return float(axes.to_spectrum(diff_fid).real[axes.ppm_window(ppm, GABA_PPM)].sum())


@pytest.mark.parametrize("snr_single", [None, 40.0])
def test_diff_gaba_area_recovered_despite_drift(snr_single):
    """GABA+ area (real DIFF, 2.8-3.2 ppm) with drifts vs the same data without drifts.

    ``snr_single`` is the NAA SNR of one OFF transient (None: noiseless). At 40 the
    DIFF GABA+ area has an SNR of about 10 over 32 ON/OFF pairs; below that the
    noise difference between two alignments (not the drift) dominates a 5 % test.
    """
    drifted, free = _interleaved(snr_single=snr_single or 1e9)
    out, rec = preprocess(sim.spectra_of(drifted), edit_interleaved=2)
    _, ref = preprocess(sim.spectra_of(free), edit_interleaved=2)
    assert out.dims == ("edit",)
    assert rec.info["edit_order"]["on_index"] == 0        # ON came first in the input
    truth = _gaba_area(ref.edited["diff"].data)
    got = _gaba_area(rec.edited["diff"].data)
    assert got == pytest.approx(truth, rel=0.05 if snr_single else 0.01)
    # the drift-free pipeline itself agrees with the plain ON - OFF of the undrifted data
    # (sub-spectra alignment adds no bias of its own)
    f_off, _ = mega_fids()
    plain = free[0::2].mean(axis=0) - free[1::2].mean(axis=0)
    ph = np.deg2rad(ref.info["phase"]["phase_deg"])
    assert _gaba_area(plain * np.exp(-1j * ph)) == pytest.approx(truth, rel=0.05)
    # without alignment the same measure is far off (the test can see drift)
    raw = drifted[0::2].mean(axis=0) - drifted[1::2].mean(axis=0)
    assert abs(_gaba_area(raw * np.exp(-1j * ph)) - truth) > 0.2 * abs(truth)
    methods = [p["Method"] for p in rec.edited["diff"].meta["ProcessingApplied"]]
    assert methods[-1] == "Subtraction of sub-spectra"
    assert "Frequency and phase correction" in methods
    assert set(rec.transients.columns) >= {"dyn", "edit", "freq_shift_hz", "phase_deg", "rejected"}
    assert len(rec.transients) == 64


def test_order_detection_and_split():
    f_off, f_on = mega_fids()
    s = sim.spectra_of(np.stack([f_off, f_on, f_off, f_on]))     # OFF first this time
    split = split_interleaved(s)
    assert split.dims == ("dyn", "edit") and split.shape == (2, 2)
    assert detect_edit_order(split.mean("dyn"))["order"] == (0, 1)
    with pytest.raises(InputError, match="cannot be split"):
        split_interleaved(sim.spectra_of(np.stack([f_off] * 3)))


def test_hermes_combinations_take_weights():
    f_off, f_on = mega_fids()
    data = np.stack([f_off, f_on, f_on, f_off])
    s = Spectra(data=data, dims=("edit",), dwelltime_s=sim.DWELL_S, spectrometer_frequency_mhz=sim.F0_MHZ)
    combos = edit_combinations(s, combinations={"gaba": [-1, 1, 1, -1], "sum": [1, 1, 1, 1]})
    np.testing.assert_allclose(combos["gaba"].data, 2 * (f_on - f_off))
    np.testing.assert_allclose(combos["sum"].data, data.sum(axis=0))
    with pytest.raises(InputError, match="give the combinations"):
        edit_combinations(s)
