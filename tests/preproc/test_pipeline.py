"""The default pipeline and `mrsquant preprocess` on real data (7T NIfTI-MRS, Philips SDAT)."""
import json

import numpy as np
import pandas as pd
import pytest

import mrsquant as mq
from mrsquant import axes
from mrsquant.cli import main
from mrsquant.preproc import combine_coils, preprocess

from . import sim

#: signal-free region for the 7T SNR (ppm): clear of lipids, macromolecules and water
NOISE_PPM_7T = (-6.0, -1.0)


def _snr(fid, ppm):
    return sim.snr(fid, ppm, NOISE_PPM_7T)


@pytest.fixture(scope="module")
def raw7t(nifti_examples):
    return (mq.load(nifti_examples / "metab_raw.nii.gz"), mq.load(nifti_examples / "wref_raw.nii.gz"),
            mq.load(nifti_examples / "ecc.nii.gz"))


@pytest.fixture(scope="module")
def processed7t(raw7t):
    metab, water, ecc = raw7t
    return preprocess(metab, water=water, ecc=ecc)


def test_real_7t_snr_at_least_plain_average(raw7t, processed7t):
    metab, water, _ = raw7t
    out, rec = processed7t
    ppm = out.ppm
    snr = _snr(out.data, ppm)
    # plain unweighted average 1: coils phased on the water reference's first point and
    # summed with equal weights, transients averaged, nothing else
    phase = np.exp(-1j * np.angle(water.data.mean(axis=1)[:, 0]))
    plain_sum = (metab.data * phase[:, None, None]).sum(axis=0).mean(axis=0)
    # plain unweighted average 2: the same coil combination, transients simply averaged
    same_coils = combine_coils(metab, reference=water)[0].data.mean(axis=0)
    assert snr >= _snr(plain_sum, ppm)
    assert snr >= _snr(same_coils, ppm)
    assert snr > 40                                    # a sane 7T STEAM spectrum, 16 averages


def test_real_7t_record(processed7t):
    out, rec = processed7t
    assert out.dims == () and out.n_points == 4096
    methods = [p["Method"] for p in out.meta["ProcessingApplied"]]
    assert methods[:3] == ["RF coil combination", "Eddy current correction", "Frequency and phase correction"]
    assert {"Signal averaging", "Nuisance peak removal", "Phasing", "Frequency shift"} <= set(methods)
    for entry in out.meta["ProcessingApplied"]:
        assert set(entry) == {"Time", "Program", "Version", "Method", "Details"}
    assert rec.steps == out.meta["ProcessingApplied"]
    t = rec.transients
    assert list(t.columns[:4]) == ["dyn", "freq_shift_hz", "phase_deg", "rejected"]
    assert len(t) == 16 and t["weight"].sum() == pytest.approx(1.0)
    assert t["freq_shift_hz"].abs().max() < 10            # a still volunteer at 7T
    assert rec.reference_check["ok"]
    assert rec.before.dims == () and rec.water is not None
    # "before" (unaligned plain mean) is in the output's frame, so a QC plot can overlay them
    from mrsquant.preproc import find_reference_offset, zero_order_phase
    assert abs(zero_order_phase(rec.before)) < 2.0
    assert abs(find_reference_offset(rec.before)["offset_ppm"]) < 0.005
    # the processed water reference, eddy-current corrected with the session's ECC scan:
    # its first point is nearly real positive
    assert abs(np.angle(rec.water.data[0])) < np.deg2rad(5)
    # NAA on its reference shift (within one 7T point, 0.01 ppm; the NAA-Cr spacing in vivo differs
    # from the singlet values by a few thousandths of a ppm)
    assert _naa_ppm(out) == pytest.approx(2.008, abs=0.01)


def _naa_ppm(s):
    """NAA position from the 8x zero-filled magnitude spectrum."""
    n = s.n_points * 8
    fz = np.zeros(n, complex)
    fz[:s.n_points] = s.data
    ppm = axes.ppm_axis(n, s.dwelltime_s, s.spectrometer_frequency_mhz, s.centre_ppm)
    win = axes.ppm_window(ppm, (1.9, 2.1))
    return ppm[win][np.argmax(np.abs(axes.to_spectrum(fz))[win])]


def test_cli_writes_output_and_table(nifti_examples, tmp_path, capsys):
    out = tmp_path / "sub" / "metab_proc.nii.gz"
    rc = main(["preprocess", str(nifti_examples / "metab_raw.nii.gz"), "--water",
               str(nifti_examples / "wref_raw.nii.gz"), "--ecc", str(nifti_examples / "ecc.nii.gz"),
               "-o", str(out)])
    assert rc == 0
    s = mq.load(out)
    assert s.dims == ()
    assert s.meta["ProcessingApplied"][0]["Method"] == "RF coil combination"
    table = pd.read_csv(tmp_path / "sub" / "metab_proc_transients.tsv", sep="\t")
    assert list(table.columns[:4]) == ["dyn", "freq_shift_hz", "phase_deg", "rejected"]
    assert len(table) == 16
    assert not list(tmp_path.glob("sub/.*part*"))            # no temporary files left
    assert "wrote" in capsys.readouterr().out


def test_cli_bad_input_is_one_line(tmp_path, capsys, nifti_examples):
    rc = main(["preprocess", str(tmp_path / "missing.nii.gz"), "-o", str(tmp_path / "o.nii.gz")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "no such file" in err
    rc = main(["preprocess", str(nifti_examples / "metab_raw.nii.gz"), "-o", str(tmp_path / "o.txt")])
    err = capsys.readouterr().err
    assert rc == 2 and "nii.gz" in err
    assert not (tmp_path / "o.txt").exists()


SDAT = [
    ("UnEdited/sub-01/ses-01/mrs/sub-01_ses-01_press/sub-01_PRESS_35_act.sdat",
     "UnEdited/sub-01/ses-01/mrs/sub-01_ses-01_press-ref/sub-01_PRESS_35_ref.sdat"),
    ("UnEdited/sub-02/ses-01/mrs/sub-02_ses-01_press/sub-02_PRESS_35_act.sdat",
     "UnEdited/sub-02/ses-01/mrs/sub-02_ses-01_press-ref/sub-02_PRESS_35_ref.sdat"),
]


@pytest.mark.parametrize("act, ref", SDAT)
def test_osprey_philips_sdat_preprocess(shared_data, act, ref):
    root = shared_data / "osprey_examples" / "exampledata" / "sdat"
    try:
        metab, water = mq.load(root / act), mq.load(root / ref)
    except mq.InputError as exc:                      # the SDAT reader lives in io/vendor.py
        pytest.skip(f"Philips SDAT reader not available: {exc}")
    out, rec = preprocess(metab, water=water)
    assert rec.reference_check["ok"], rec.reference_check["message"]
    ppm = out.ppm
    sp = out.spectrum()
    win = axes.ppm_window(ppm, (1.9, 2.1))
    assert _naa_ppm(out) == pytest.approx(2.008, abs=0.01)
    # residual water gone: nothing in 4.5-4.8 ppm taller than NAA
    wat = axes.ppm_window(ppm, (4.5, 4.8))
    assert np.abs(sp[wat]).max() < sp.real[win].max()
    assert _snr(out.data, ppm) > 10
    json.dumps(out.meta["ProcessingApplied"])          # JSON-able provenance
