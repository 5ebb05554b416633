"""Residual water in a single spectrum is removed before the fit (fitting/pipeline.py).

Simulated: a known spectrum plus a water residue 30x the NAA peak must give the
same ratios as the clean spectrum. Real: Osprey's Philips PRESS sub-02, whose fit
had every main metabolite at 0 before, must give healthy-brain ratios.
"""
import numpy as np
import pytest

import mrsquant as mq
from mrsquant import axes
from mrsquant.app.pipeline import _remove_water_residue, fit_files
from mrsquant.basis.io import load_basis
from mrsquant.fitting import FitModel

TYPICAL = {"NAA": 12.0, "NAAG": 1.5, "Cr": 5.0, "PCr": 4.0, "GPC": 1.0, "PCh": 0.6, "Glu": 10.0,
           "Gln": 3.0, "mI": 6.0, "GSH": 2.0, "Tau": 1.5, "GABA": 1.5, "Mac": 10.0}


@pytest.fixture(scope="module")
def basis(challenge):
    return load_basis(challenge / "basisset_text_noTMS")


def _spectrum(basis, water_factor, seed=0):
    conc = np.array([TYPICAL.get(m, 0.0) for m in basis.names])
    t = axes.time_axis(basis.n_points, basis.dwelltime_s)
    fid = (conc @ basis.fids) * np.exp(-np.pi * 5.0 * t + 1j * 0.4)
    height = np.abs(axes.to_spectrum(fid)[np.abs(basis.ppm - 2.01) < 0.05]).max()
    # water at 4.70 ppm, 9 Hz wide, phase unrelated to the metabolites
    w_hz = (4.70 - basis.centre_ppm) * basis.spectrometer_frequency_mhz
    water = np.exp(2j * np.pi * w_hz * t - np.pi * 9.0 * t + 1.3j)
    water *= water_factor * height / np.abs(axes.to_spectrum(water)).max()
    rng = np.random.default_rng(seed)
    noise = height / 80 / np.sqrt(t.size) * (rng.standard_normal(t.size) + 1j * rng.standard_normal(t.size))
    return mq.Spectra(data=fid + water + noise, dwelltime_s=basis.dwelltime_s,
                      spectrometer_frequency_mhz=basis.spectrometer_frequency_mhz, te_ms=30), conc


def test_clean_spectrum_is_left_alone(basis):
    s, _ = _spectrum(basis, 0.0)
    out, steps = _remove_water_residue(s)
    assert steps == [] and out is s


def test_water_residue_removed_and_ratios_kept(basis):
    clean, conc = _spectrum(basis, 0.0)
    wet, _ = _spectrum(basis, 30.0)
    dry, steps = _remove_water_residue(wet)
    assert steps and "HLSVD" in steps[0]["Details"]
    r_clean, r_dry = FitModel(basis).fit(clean), FitModel(basis).fit(dry)
    tcr = conc[basis.names.index("Cr")] + conc[basis.names.index("PCr")]
    for name, true in (("tNAA", 13.5), ("tCho", 1.6), ("Glu", 10.0), ("mI", 6.0)):
        i = r_dry.metabolites.index(name)
        assert abs(r_dry.ratio()[0, i] / (true / tcr) - 1) < 0.05, name
        assert abs(r_dry.ratio()[0, i] / r_clean.ratio()[0, i] - 1) < 0.03, name


def test_osprey_sub02_fits_in_healthy_ranges(shared_data, tmp_path):
    root = shared_data / "osprey_examples/exampledata/sdat/UnEdited/sub-02/ses-01/mrs"
    from mrsquant.basis.simulate import simulate_basis
    # the basis of the issue report: `basis simulate --sequence press --te 35 --mm` for the file's grid
    basis = simulate_basis("press", te_ms=35, field_mhz=127.750896, n_points=2048, bandwidth_hz=2000,
                           macromolecules="consensus")
    out = fit_files([root / "sub-02_ses-01_press/sub-02_PRESS_35_act.sdat"], basis, outdir=tmp_path / "fit",
                    water=[root / "sub-02_ses-01_press-ref/sub-02_PRESS_35_ref.sdat"], progress=False)
    res = out["results"][0]
    rat = res.ratio()[0]
    tnaa, tcho = rat[res.metabolites.index("tNAA")], rat[res.metabolites.index("tCho")]
    assert 1.1 < tnaa < 1.9 and 0.15 < tcho < 0.35, (tnaa, tcho)
    assert 5.0 < res.conc_mm[0, res.metabolites.index("tCr")] < 12.0


def test_measured_and_parametric_mm_together_are_named(basis):
    from mrsquant.basis.simulate import simulate_basis
    from mrsquant.errors import BasisMismatchWarning

    mm = simulate_basis("press", te_ms=30, field_mhz=basis.spectrometer_frequency_mhz, n_points=basis.n_points,
                        bandwidth_hz=1 / basis.dwelltime_s, metabolites=["MM09", "Lip13"])
    both = basis.concat(mm.select(["MM09", "Lip13"]))
    with pytest.warns(BasisMismatchWarning, match="Mac"):
        model = FitModel(both)
    s, _ = _spectrum(basis, 0.0)
    assert any("MM09" in w for w in model.fit(s).warnings)
