"""`mrsquant fit MEGA --gaba-model gabaglx`: gaba_plus.tsv on simulated MEGA-PRESS transients
(known GABA+/Cr area ratio), and a note for an unedited input."""
import csv
from pathlib import Path

import numpy as np
import pytest

import mrsquant as mq
from mrsquant import axes
from mrsquant.app.gaba import edited_spectra, gaba_rows
from mrsquant.cli import main
from mrsquant.fitting.synthetic_edited import mega_transients

BASIS = Path(__file__).parents[2] / "data" / "basis"


def _rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture(scope="module")
def mega(tmp_path_factory):
    subs = {k: mq.load_basis(BASIS / f"megapress_te68_gaba_3T_{k}") for k in ("off", "on")}
    # 32 OFF/ON pairs, random-walk drift 0.3 Hz per TR, single-transient NAA SNR 80, 10 Hz lines
    s, truth = mega_transients(subs, 32, seed=7, snr_per_transient=80.0, gauss_hz=10.0, drift_hz_per_tr=0.3)
    folder = tmp_path_factory.mktemp("mega")
    return {"path": mq.save(s, folder / "mega.nii.gz"), "truth": truth["gaba_cr"], "spectra": s, "clean": truth}


def test_gaba_plus_table_matches_truth(mega, tmp_path):
    out = tmp_path / "out"
    assert main(["fit", str(mega["path"]), "--basis", str(BASIS / "megapress_te68_gaba_3T_diff"), "-o", str(out),
                 "--quiet", "--gaba-model", "gabaglx"]) == 0
    (row,) = _rows(out / "gaba_plus.tsv")
    # the pipeline's ON/OFF call (edited signal, preproc.detect_edit_order) is right and confident
    assert row["model"] == "gabaglx" and row["note"] == ""
    est, se = float(row["gaba_cr"]), float(row["gaba_cr_se"])
    assert abs(est - mega["truth"]) < 2 * se, (est, se, mega["truth"])
    # measured: 0.135 +- 0.011 against 0.126 (phase fitted on the OFF's Cr, shared by the DIFF;
    # real parts as given, the old behaviour: 0.118 +- 0.012)
    assert se < 0.3 * est
    assert row["gaba_water"] == ""          # no water reference


def test_unedited_input_gets_a_note(challenge, tmp_path):
    out = tmp_path / "out"
    assert main(["fit", str(challenge / "datasets_text" / "dataset1.txt"), "--basis",
                 str(challenge / "basisset_text_noTMS"), "-o", str(out), "--quiet", "--gaba-model", "gaba"]) == 0
    (row,) = _rows(out / "gaba_plus.tsv")
    assert "not an edited acquisition" in row["note"] and row["gaba_cr"] == ""


def test_fitted_phase_is_the_pipeline_residual(mega):
    """The pipeline leaves a residual zero-order phase on these drift-affected transients (its
    phase step on the tallest 1.8-3.4 ppm peak, measured +5.6 deg against the noiseless OFF); the
    Cr fit's ``phase_deg`` finds it within 2 SE (measured 8.9 +- 2.0 deg: the SE is mostly the
    misfit of the multiplets under Cr/Cho), and GABA+/Cr with the phase term is within 1 SE of the
    truth (measured +6.9 %; the real part taken as given: -6.3 %, here also within its SE)."""
    ppm, _, off, _, _ = edited_spectra(mega["spectra"])
    ref = axes.to_spectrum(mega["clean"]["off"])
    win = axes.ppm_window(ppm, (1.8, 4.2))
    residual = float(np.rad2deg(np.angle(np.vdot(ref[win], off[win]))))
    (new,) = gaba_rows([mega["path"]], model="gabaglx")
    (old,) = gaba_rows([mega["path"]], model="gabaglx", phase="none")
    assert abs(residual) > 2.0
    assert abs(new["phase_deg"] - residual) < 2 * new["phase_deg_se"]
    assert old["phase_deg"] == 0.0
    assert abs(new["gaba_cr"] - mega["truth"]) < new["gaba_cr_se"]
