"""HERMES / HERCULES: basis simulation, Hadamard combination, joint sum + difference fit."""
from __future__ import annotations

import csv
import warnings

import numpy as np
import pytest

import mrsquant as mq
from mrsquant.basis.edited import load_edited_basis, save_edited_basis
from mrsquant.basis.simulate import (
    HADAMARD_COMBINATIONS,
    HADAMARD_SEQUENCES,
    sequence_events,
    simulate_basis,
    simulate_edited_basis,
)
from mrsquant.cli import main
from mrsquant.fitting.edited import EditedFitModel
from mrsquant.fitting.synthetic_edited import (
    MM_EDITED,
    TYPICAL_EDITED,
    hermes_transients,
    sub_experiment_bases,
    synthetic_hermes,
)
from mrsquant.preproc.editing import edit_combinations

GRID = {"field_mhz": 123.2, "n_points": 2048, "bandwidth_hz": 4000.0}
METS = list(TYPICAL_EDITED) + list(MM_EDITED)


@pytest.fixture(scope="module")
def hermes():
    eb = simulate_edited_basis("hermes", metabolites=METS, **GRID)
    subs = sub_experiment_bases("hermes", **GRID)
    return eb, subs


def _peak(basis, name, lo, hi):
    sp = mq.axes.to_spectrum(basis.fids[basis.names.index(name)])
    sel = (basis.ppm > lo) & (basis.ppm < hi)
    return float(np.abs(sp[sel]).max())


def test_editing_bands_per_sub_experiment():
    ev = sequence_events("hermes", te_ms=80, edit_ppm=(1.9, 4.56))
    bands = [e[3][0] for e in ev if e[0] == "pulse" and e[3] is not None]
    assert bands == [1.9, 4.56, 1.9, 4.56]          # a dual-band pulse, twice
    assert HADAMARD_SEQUENCES["hercules"]["B"] == (4.18, 1.9)


def test_singlet_cancels_in_differences_and_adds_in_sum(hermes):
    """Cr (singlets far from every editing band) is the same in all four sub-experiments: the
    differences hold nothing, the sum four times one sub-experiment (analytic)."""
    eb, subs = hermes
    cr = eb.bases["sum"].names.index("Cr")
    one = subs["D"].fids[subs["D"].names.index("Cr")]
    np.testing.assert_allclose(eb.bases["sum"].fids[cr], 4 * one, atol=1e-9)
    for d in ("diff_gaba", "diff_gsh"):
        assert np.abs(eb.bases[d].fids[cr]).max() < 1e-9


def test_edited_signals_where_expected(hermes):
    """GABA is edited by the 1.9 ppm band only (3.0 ppm peak in diff_gaba, nothing in diff_gsh),
    GSH by the 4.56 ppm band only (2.95 ppm cysteine peak in diff_gsh, nothing in diff_gaba)."""
    eb, _ = hermes
    assert _peak(eb.bases["diff_gaba"], "GABA", 2.9, 3.1) > 0.3 * _peak(eb.bases["sum"], "GABA", 2.9, 3.1)
    assert np.abs(eb.bases["diff_gsh"].fids[eb.names.index("GABA")]).max() < 1e-9
    assert _peak(eb.bases["diff_gsh"], "GSH", 2.85, 3.05) > 0.2 * _peak(eb.bases["sum"], "GSH", 2.85, 3.05)
    assert np.abs(eb.bases["diff_gaba"].fids[eb.names.index("GSH")]).max() < 1e-9
    mm3 = eb.names.index("MM3co")
    assert np.abs(eb.bases["sum"].fids[mm3]).max() == 0 and eb.bases["diff_gaba"].fids[mm3, 0] == 2.0


def test_hercules_combinations_from_sub_experiments():
    """The HERCULES combinations are the Hadamard sums of its four simulated sub-experiments."""
    kw = dict(metabolites=["GABA", "GSH", "NAA"], **GRID)
    eb = simulate_edited_basis("hercules", mm3co=False, **kw)
    subs = [simulate_basis("hercules", te_ms=80, edit_state=k, **kw) for k in "ABCD"]
    for combo, w in HADAMARD_COMBINATIONS.items():
        expect = sum(wi * s.fids for wi, s in zip(w, subs))
        np.testing.assert_allclose(eb.bases[combo].fids, expect, atol=1e-9)


def test_hadamard_combination_weights():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(4, 64)) + 1j * rng.normal(size=(4, 64))
    s = mq.Spectra(data=data, dims=("edit",), dwelltime_s=2.5e-4, spectrometer_frequency_mhz=123.2)
    out = edit_combinations(s, combinations=HADAMARD_COMBINATIONS)
    a, b, c, d = data
    np.testing.assert_allclose(out["diff_gaba"].data, a + b - c - d)
    np.testing.assert_allclose(out["diff_gsh"].data, a - b + c - d)
    np.testing.assert_allclose(out["sum"].data, a + b + c + d)


def test_edited_basis_round_trip(hermes, tmp_path):
    eb, _ = hermes
    save_edited_basis(eb, tmp_path / "hb")
    back = load_edited_basis(tmp_path / "hb")
    assert back.names == eb.names and back.weights == eb.weights
    for k in eb.bases:
        np.testing.assert_allclose(back.bases[k].fids, eb.bases[k].fids, rtol=1e-6, atol=1e-6)


def test_joint_fit_recovers_gaba_and_gsh(hermes):
    """Noise-free spectra with random lineshape/shift/phase and MM3co: exact truth back (< 1 %);
    at realistic noise, each estimate within 4 of its reported SDs."""
    eb, subs = hermes
    model = EditedFitModel(eb)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clean, truth = synthetic_hermes(subs, 3, seed=5, noise_sd_per_transient=1e-3, mm_jitter=False)
        res = model.fit(clean)
        noisy, ntruth = synthetic_hermes(subs, 4, seed=6, noise_sd_per_transient=16.0)
        nres = model.fit(noisy)
    names = list(res.basis_names)
    for met in ("GABA", "GSH"):
        np.testing.assert_allclose(res.arrays["amplitude"][:, names.index(met)], truth[met], rtol=0.01)
        j = res.metabolites.index(met)
        err = nres.arrays["amplitude"][:, names.index(met)] - ntruth[met]
        assert np.all(np.abs(err) < 4 * nres.crlb_abs[:, j]), (met, err, nres.crlb_abs[:, j])
    np.testing.assert_allclose(res.arrays["amplitude"][:, names.index("MM3co")], truth["MM3co"], rtol=0.05)
    # shared nonlinear parameters: one phase for all combinations, the drawn one
    np.testing.assert_allclose(np.rad2deg(res.theta[:, 0]), truth["phase_deg"], atol=0.5)


def test_cli_simulate_and_fit_hermes(hermes, tmp_path, capsys):
    """`mrsquant basis simulate --sequence hermes` + `mrsquant fit` on 4-condition transients
    writes GABA and GSH rows (pipeline: alignment, averaging, Hadamard combination, joint fit)."""
    _, subs = hermes
    s, truth = hermes_transients(subs, 16, seed=11, noise_sd_per_transient=2.0)
    mq.save(s, tmp_path / "hermes.nii.gz")
    mets = ",".join(METS)
    assert main(["basis", "simulate", "--sequence", "hermes", "--field-mhz", "123.2", "--metabolites", mets,
                 "-o", str(tmp_path / "hb")]) == 0
    assert main(["fit", str(tmp_path / "hermes.nii.gz"), "--basis", str(tmp_path / "hb"), "-o",
                 str(tmp_path / "out"), "--quiet"]) == 0
    rows = {r["metabolite"]: r for r in csv.DictReader(open(tmp_path / "out" / "concentrations.tsv"),
                                                       delimiter="\t")}
    for met in ("GABA", "GSH"):
        assert float(rows[met]["amplitude"]) == pytest.approx(float(truth[met][0]), rel=0.15)
    # a 4-condition input with an ordinary basis: one clear refusal line, nothing fitted
    assert main(["fit", str(tmp_path / "hermes.nii.gz"), "--basis", str(tmp_path / "hb" / "sum"), "-o",
                 str(tmp_path / "out2"), "--quiet"]) != 0
    assert "edited basis" in capsys.readouterr().err


def test_hercules_joint_fit_noise_free():
    """HERCULES (bands 4.58+1.9, 4.18+1.9, 4.58, 4.18): the same joint model recovers GABA and
    GSH from noise-free simulated sub-experiments (1.9 ppm ON in A and B, as HERMES)."""
    eb = simulate_edited_basis("hercules", metabolites=METS, **GRID)
    subs = sub_experiment_bases("hercules", **GRID)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clean, truth = synthetic_hermes(subs, 2, seed=9, noise_sd_per_transient=1e-3, mm_jitter=False)
        res = EditedFitModel(eb).fit(clean)
    names = list(res.basis_names)
    for met in ("GABA", "GSH"):
        np.testing.assert_allclose(res.arrays["amplitude"][:, names.index(met)], truth[met], rtol=0.01)


def test_cli_no_preprocess_fits_averaged_sub_spectra_as_given(hermes, tmp_path):
    """Averaged sub-experiments (dims ``edit``) with --no-preprocess: the CLI's GABA/GSH equal the
    direct EditedFitModel fit of the same data."""
    eb, subs = hermes
    s, _ = synthetic_hermes(subs, 1, seed=13, noise_sd_per_transient=8.0)
    one = s.replace(data=s.data[0], dims=("edit",))
    mq.save(one, tmp_path / "avg.nii.gz")
    save_edited_basis(eb, tmp_path / "hb")
    assert main(["fit", str(tmp_path / "avg.nii.gz"), "--basis", str(tmp_path / "hb"), "-o",
                 str(tmp_path / "out"), "--quiet", "--no-preprocess"]) == 0
    rows = {r["metabolite"]: r for r in csv.DictReader(open(tmp_path / "out" / "concentrations.tsv"),
                                                       delimiter="\t")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = EditedFitModel(eb).fit(mq.load(tmp_path / "avg.nii.gz").replace(dims=("edit",)))
    for met in ("GABA", "GSH"):
        expect = float(res.arrays["amplitude"][0, list(res.basis_names).index(met)])
        assert float(rows[met]["amplitude"]) == pytest.approx(expect, rel=1e-4)
