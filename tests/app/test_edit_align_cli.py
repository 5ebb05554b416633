"""`mrsquant fit --edit-align pairs|conditions` reaches the preprocessing of both the LC fit and
the GABA+ model (issue 16: robust MEGA at low SNR per transient), and a bad choice is refused."""
import csv
import json
from pathlib import Path

import h5py
import pytest

import mrsquant as mq
from mrsquant.cli import main
from mrsquant.fitting.synthetic_edited import mega_transients

BASIS = Path(__file__).parents[2] / "data" / "basis"


@pytest.fixture(scope="module")
def low_snr_mega(tmp_path_factory):
    subs = {k: mq.load_basis(BASIS / f"megapress_te68_gaba_3T_{k}") for k in ("off", "on")}
    # 32 pairs at single-transient NAA SNR 8: the regime where per-condition alignment drifts apart
    s, truth = mega_transients(subs, 32, seed=3, snr_per_transient=8.0, gauss_hz=8.0, drift_hz_per_tr=0.3)
    return mq.save(s, tmp_path_factory.mktemp("mega") / "mega.nii.gz"), truth


def _run(path, tmp_path, mode):
    out = tmp_path / mode
    assert main(["fit", str(path), "--basis", str(BASIS / "megapress_te68_gaba_3T_diff"), "-o", str(out),
                 "--quiet", "--edit-align", mode, "--gaba-model", "gabaglx"]) == 0
    with h5py.File(out / "fit.nc") as f:
        steps = json.loads(f.attrs["preprocessing"])[0]["steps"]
    with open(out / "gaba_plus.tsv") as fh:
        (row,) = list(csv.DictReader(fh, delimiter="\t"))
    return steps, row


def test_edit_align_reaches_both_fits(low_snr_mega, tmp_path):
    path, truth = low_snr_mega
    steps_p, row_p = _run(path, tmp_path, "pairs")
    steps_c, row_c = _run(path, tmp_path, "conditions")
    align = [s["Details"] for s in steps_p if s["Method"] == "Frequency and phase correction"]
    assert "one correction per repetition" in align[0]
    assert not any("one correction per repetition" in s["Details"] for s in steps_c)
    assert row_p["gaba_cr"] != row_c["gaba_cr"]          # the GABA+ model saw the same choice
    est, se = float(row_p["gaba_cr"]), float(row_p["gaba_cr_se"])
    assert abs(est - truth["gaba_cr"]) < 3 * se, (est, se, truth["gaba_cr"])


def test_bad_edit_align_is_refused(low_snr_mega, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fit", str(low_snr_mega[0]), "--basis", str(BASIS / "megapress_te68_gaba_3T_diff"),
              "-o", str(tmp_path / "o"), "--edit-align", "both"])
    assert exc.value.code == 2 and not (tmp_path / "o").exists()
