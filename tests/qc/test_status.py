"""qc.tsv status and reasons: each criterion names itself (docs/conventions.md)."""
import numpy as np
import pytest

from mrsquant.qc.metrics import STATUS_RULES, assess, parameters_at_bounds


@pytest.fixture(scope="module")
def fit_ds(challenge, tmp_path_factory):
    """A real fit (challenge dataset 1, clean): status ok; copies are altered per criterion."""
    from mrsquant.app.pipeline import fit_files

    out = fit_files([challenge / "datasets_text" / "dataset1.txt"], challenge / "basisset_text_noTMS",
                    outdir=tmp_path_factory.mktemp("fit"), progress=False)
    return out["dataset"]


def test_clean_fit_is_ok_with_empty_reasons(fit_ds):
    assert list(fit_ds["status"].values) == ["ok"] and list(fit_ds["reasons"].values) == [""]


def test_all_zero_main_metabolites_flagged(fit_ds):
    ds = fit_ds.copy(deep=True)
    for m in ("tNAA", "tCr"):
        ds["amplitude"].loc[{"metabolite": m}] = 0.0
    status, reasons = assess(ds)
    assert "main metabolites zero" in status[0]
    assert "tNAA, tCr fitted as 0" in reasons[0]


def test_implausible_ratio_and_water_scaled_tcr(fit_ds):
    ds = fit_ds.copy(deep=True)
    ds["ratio_tcr"].loc[{"metabolite": "Gln"}] = 2.7
    ds["conc_mm"].loc[{"metabolite": "tCr"}] = 99.0
    status, reasons = assess(ds)
    assert status[0] == "implausible"
    assert "Gln/tCr 2.7 > 1.2" in reasons[0] and "tCr 99 mM outside 3-20 mM" in reasons[0]


def test_prior_dominated_named(fit_ds):
    ds = fit_ds.copy(deep=True)
    pi = np.zeros(ds["amplitude"].shape)
    ds["prior_influence"] = (("spectrum", "metabolite"), pi)
    assert assess(ds)[0] == ["ok"]
    ds["prior_influence"].loc[{"metabolite": "GABA"}] = 0.8
    status, reasons = assess(ds)
    assert status[0] == "prior-dominated" and "GABA 0.80" in reasons[0]


def test_low_snr_and_broad_lines_carry_their_values(fit_ds):
    ds = fit_ds.copy(deep=True)
    ds["snr"][:] = 3.2
    ds["fwhm_ppm"][:] = 0.123
    status, reasons = assess(ds)
    assert status[0] == "low SNR; broad lines"
    assert reasons[0] == f"SNR 3.2 < {STATUS_RULES['low_snr']:g}; FWHM 0.123 ppm > 0.1"


def test_failed_status_kept_with_its_reason(fit_ds):
    ds = fit_ds.copy(deep=True)
    ds["status"][:] = "failed: empty spectrum (all points zero)"
    assert assess(ds) == (["failed: empty spectrum (all points zero)"], ["empty spectrum (all points zero)"])


def test_parameters_at_bounds_names_each_bound():
    # layout: phase0, phase1, shift x2 groups, Lorentz x2, Gauss x2
    f0 = 123.2
    lower = np.array([-4 * np.pi, -1.0, -0.25 * f0, -0.25 * f0, 0, 0, 0, 0])
    upper = np.array([4 * np.pi, 1.0, 0.25 * f0, 0.25 * f0, 40, 40, 100.0, 100.0])
    theta = np.array([
        [0.1, 0.0, 1.0, 2.0, 5.0, 5.0, 10.0, 10.0],          # inside
        [0.1, -1.0, -0.25 * f0, 2.0, 5.0, 40.0, 10.0, 10.0],  # phase1, shift, MM width
        [0.1, 0.0, 1.0, 2.0, 0.0, 0.0, 0.0, 0.0],            # metabolite widths both zero
    ])
    out = parameters_at_bounds(theta, lower, upper, group_names=("metabolites", "macromolecules"),
                               f0_mhz=f0, n_groups=2)
    assert out[0] == ""
    assert out[1] == "phase1 at bound -57.3 deg/ppm; shift at bound -0.25 ppm; MM Lorentzian width at bound 40 Hz"
    assert out[2] == "linewidth zero"      # MM widths zero: its components carry their own width
    undetected = parameters_at_bounds(theta, lower, upper, group_names=("metabolites", "macromolecules"),
                                      f0_mhz=f0, n_groups=2, active=[[True, False]] * 3)
    assert undetected[1] == "phase1 at bound -57.3 deg/ppm; shift at bound -0.25 ppm"


def test_phantom_without_naa_is_flagged_not_ok(shared_data, tmp_path):
    """suspect's XA60 DICOM is an ethanol-like phantom without NAA/Cr/Cho (docs/file_formats.md):
    its fit cannot be 'ok' and must say the main metabolites are missing."""
    from mrsquant.app.pipeline import fit_files
    from mrsquant.basis import simulate_basis
    from mrsquant.io import load

    path = shared_data / "suspect_examples/tests/test_data/siemens/SVS_XA60.dcm"
    s = load(path)
    basis = simulate_basis("press", te_ms=30, field_mhz=s.spectrometer_frequency_mhz,
                           n_points=s.n_points, bandwidth_hz=1 / s.dwelltime_s,
                           metabolites=["NAA", "Cr", "PCr", "GPC", "PCh", "mI", "Glu", "Gln", "Lac"])
    out = fit_files([path], basis, outdir=tmp_path / "out", progress=False)
    status = str(out["dataset"]["status"].values[0])
    assert status != "ok" and "main metabolites zero" in status
