"""``mrsquant fit --t1``: tissue fractions computed on the fly from the T1 and fed to the water
scaling; the CSF-, fully- and alpha-corrected columns; pairing of T1s with inputs; refusals."""
import csv
import re

import nibabel as nib
import numpy as np
import pytest

from mrsquant import axes
from mrsquant.app.pipeline import fit_files
from mrsquant.app.segment import pair_t1s
from mrsquant.cli import main
from mrsquant.errors import InputError
from mrsquant.fitting.synthetic import singlet_basis, singlet_spectra
from mrsquant.io import save
from mrsquant.quant import synthetic as syn
from mrsquant.quant.config import load_quant_config
from mrsquant.quant.tissue import gaba_alpha_corrected
from mrsquant.spectra import Spectra

SHAPE = (48, 48, 48)
BOX = syn.box_affine((16, 16, 16), degrees_xyz=(0, 0, 10), centre_mm=(2, 0, 0))


@pytest.fixture(scope="module")
def slabs_t1(tmp_path_factory):
    """A 1 mm T1 of three slabs (CSF | GM | WM along x) with its FSL FAST maps, and the truth."""
    d = tmp_path_factory.mktemp("t1")
    labels = syn.slabs(normal=(1, 0, 0), edges_mm=(-16, -2, 6, 16))
    aff = syn.grid_affine(SHAPE, (1, 1, 1))
    maps = syn.tissue_maps(labels, SHAPE, aff, oversample=2)
    nib.save(nib.Nifti1Image(syn.t1_image(maps), aff), d / "sub-01_ses-pre_T1w.nii.gz")
    for t, n in (("csf", 0), ("gm", 1), ("wm", 2)):
        nib.save(nib.Nifti1Image(maps[t], aff), d / f"t1_pve_{n}.nii.gz")
    return d, syn.true_fractions(labels, BOX)


def _inputs(folder, *, names=("NAA", "Cr", "PCh"), sequence="analytic", affine=BOX, stem="sub-01_ses-pre_svs"):
    basis = singlet_basis()
    basis = basis.replace(names=tuple(names), sequence=sequence)
    s = singlet_spectra([[10.0, 8.0, 2.0]], basis=basis)
    s = s.replace(data=s.data[0], dims=(), affine=affine)
    t = axes.time_axis(s.n_points, s.dwelltime_s)
    w = Spectra(data=(5000.0 * np.exp(-np.pi * 4.0 * t)).astype(np.complex64), dwelltime_s=s.dwelltime_s,
                spectrometer_frequency_mhz=s.spectrometer_frequency_mhz, te_ms=30.0, tr_ms=2000.0, affine=affine)
    s = s.replace(te_ms=30.0, tr_ms=2000.0)
    folder.mkdir(parents=True, exist_ok=True)
    return save(s, folder / f"{stem}.nii.gz"), save(w, folder / f"{stem}_ref.nii.gz"), basis


def _table(path):
    with open(path) as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_fit_t1_fractions_feed_water_scaling(tmp_path, slabs_t1):
    """Fractions from the T1's maps equal the geometric truth (1 %), and the water-scaled mM with
    them equal the hand-typed path (``--quant-config`` with the same fractions)."""
    d, truth = slabs_t1
    spec, water, basis = _inputs(tmp_path / "in")
    out = fit_files([spec], basis, outdir=tmp_path / "t1", water=[water], progress=False,
                    t1=[d / "sub-01_ses-pre_T1w.nii.gz"], tissue_maps=[d], baseline="none")
    frac = _table(tmp_path / "t1" / "fractions.tsv")[0]
    f = {t: float(frac[f"f_{t}"]) for t in ("gm", "wm", "csf")}
    for t in f:
        assert f[t] == pytest.approx(truth[t], abs=0.01)
    assert {"voxel_mask.nii.gz", "voxel.png", "fractions.tsv"} <= {p.name for p in (tmp_path / "t1").iterdir()}
    qc = _table(tmp_path / "t1" / "qc.tsv")[0]
    assert float(qc["f_gm"]) == pytest.approx(f["gm"], abs=1e-4)
    # the hand-typed path with the fractions at full precision (the TSV holds 4 decimals)
    from mrsquant.app.segment import voxel_fractions
    res = voxel_fractions(d / "sub-01_ses-pre_T1w.nii.gz", spec, tissue_maps=[d])
    exact = {t: res["fractions"][t] for t in ("gm", "wm", "csf")}
    toml = tmp_path / "typed.toml"
    toml.write_text("[tissue]\n" + "".join(f"{t} = {v!r}\n" for t, v in exact.items()))
    typed = fit_files([spec], basis, outdir=tmp_path / "typed", water=[water], progress=False,
                      quant_config=toml, baseline="none")
    a = out["dataset"]["conc_mm"].values
    b = typed["dataset"]["conc_mm"].values
    assert np.all(np.isfinite(a)) and a[0, 0] > 0
    np.testing.assert_allclose(a, b, rtol=1e-9)
    rows_a = _table(tmp_path / "t1" / "concentrations.tsv")
    rows_b = _table(tmp_path / "typed" / "concentrations.tsv")
    for ra, rb in zip(rows_a, rows_b):
        assert (ra["conc_mm"], ra["conc_csf_mm"]) == (rb["conc_mm"], rb["conc_csf_mm"])
    # and they differ from the default fractions' (GM 0.6 / WM 0.4 / CSF 0): the fractions were used
    default = fit_files([spec], basis, outdir=tmp_path / "default", water=[water], progress=False, baseline="none")
    assert abs(default["dataset"]["conc_mm"].values[0, 0] / a[0, 0] - 1) > 0.05
    assert "conc_csf_mm" not in _table(tmp_path / "default" / "concentrations.tsv")[0]


def test_fit_t1_builtin_segmentation_and_report(tmp_path, slabs_t1):
    """Without maps the T1 is segmented; --report gets the voxel page (looked at as PNG)."""
    d, truth = slabs_t1
    spec, water, basis = _inputs(tmp_path / "in")
    out = tmp_path / "out"
    bdir = tmp_path / "basis"
    from mrsquant.basis.io import save_basis
    save_basis(basis, bdir)
    assert main(["fit", str(spec), "--basis", str(bdir), "--water", str(water), "-o", str(out), "--quiet",
                 "--baseline", "none", "--t1", str(d / "sub-01_ses-pre_T1w.nii.gz"), "--report"]) == 0
    frac = _table(out / "fractions.tsv")[0]
    assert frac["source"] == "builtin"
    for t in ("gm", "wm", "csf"):
        assert float(frac[f"f_{t}"]) == pytest.approx(truth[t], abs=0.03)
    # spectrum page, voxel page, MRSinMRS checklist
    assert len(re.findall(rb"/Type\s*/Page[^s]", (out / "report.pdf").read_bytes())) == 3


def test_alpha_column_for_mega_gaba(tmp_path, slabs_t1):
    """A MEGA-PRESS (edited) fit: conc_alpha_mm on the GABA row equals Harris 2015's formula
    with the computed fractions; empty on the other rows."""
    d, _ = slabs_t1
    spec, water, basis = _inputs(tmp_path / "in", names=("NAA", "Cr", "GABA"), sequence="mega-press")
    out = fit_files([spec], basis, outdir=tmp_path / "o", water=[water], progress=False,
                    t1=[d / "sub-01_ses-pre_T1w.nii.gz"], tissue_maps=[d], baseline="none")
    rows = {r["metabolite"]: r for r in _table(tmp_path / "o" / "concentrations.tsv")}
    assert rows["NAA"]["conc_alpha_mm"] == "" and rows["GABA"]["conc_alpha_mm"] != ""
    f = {t: float(_table(tmp_path / "o" / "fractions.tsv")[0][f"f_{t}"]) for t in ("gm", "wm", "csf")}
    ds = out["dataset"]
    amp = float(ds["amplitude"].sel(metabolite="GABA").values[0])
    conc_mm = float(ds["conc_mm"].sel(metabolite="GABA").values[0])
    # water area back from conc_mm (same config, Gasparovic): independent of the alpha formula
    cfg = load_quant_config(tissue=f)
    from mrsquant.quant.water import water_scaled
    unit = water_scaled(np.array([[amp]]), np.array([[0.0]]), ["GABA"], np.array([1.0]), cfg, te_ms=30,
                        tr_ms=2000)[0][0, 0]
    area = unit / conc_mm
    expect = gaba_alpha_corrected(np.array([amp]), np.array([area]), cfg, te_ms=30, tr_ms=2000)[0]
    assert float(rows["GABA"]["conc_alpha_mm"]) == pytest.approx(expect, rel=2e-4)   # f at 4 decimals


def test_pairing_rules(tmp_path):
    t = tmp_path
    for n in ("sub-01_ses-pre_T1w.nii.gz", "sub-01_ses-post_T1w.nii.gz", "sub-02_T1w.nii.gz", "plain.nii.gz"):
        (t / n).write_bytes(b"")
    i1, i2, i3 = (t / "sub-01_ses-post_svs.nii.gz", t / "sub-01_ses-pre_svs.nii.gz", t / "sub-02_ses-x_svs.nii.gz")
    t1s = [t / "sub-01_ses-pre_T1w.nii.gz", t / "sub-01_ses-post_T1w.nii.gz", t / "sub-02_T1w.nii.gz"]
    # BIDS: by participant and session; a T1 without ses serves its participant's sessions
    assert [p.name for p in pair_t1s([i1, i2, i3, i1], t1s)] == [
        "sub-01_ses-post_T1w.nii.gz", "sub-01_ses-pre_T1w.nii.gz", "sub-02_T1w.nii.gz", "sub-01_ses-post_T1w.nii.gz"]
    assert [p.name for p in pair_t1s([i1, i2], t1s[:2])] == [                  # order does not matter
        "sub-01_ses-post_T1w.nii.gz", "sub-01_ses-pre_T1w.nii.gz"]
    # without BIDS names on all: same count, in order, but a contradiction of entities is refused
    assert pair_t1s([t / "a.nii.gz"], [t / "plain.nii.gz"]) == [t / "plain.nii.gz"]
    with pytest.raises(InputError, match="order of the inputs"):
        pair_t1s([i1, t / "a.nii.gz"], [t1s[0], t / "plain.nii.gz"])
    with pytest.raises(InputError, match="one T1 per input"):
        pair_t1s([t / "a.nii.gz", t / "b.nii.gz"], [t / "plain.nii.gz"])
    with pytest.raises(InputError, match="no T1 for sub-03"):
        pair_t1s([t / "sub-03_svs.nii.gz", i1], t1s)


def test_cli_refusals_write_nothing(tmp_path, slabs_t1, capsys):
    d, _ = slabs_t1
    a, wa, basis = _inputs(tmp_path / "in", stem="a")
    b, _, _ = _inputs(tmp_path / "in", stem="b")
    far, _, _ = _inputs(tmp_path / "in", stem="far", affine=syn.box_affine((16, 16, 16), centre_mm=(300, 0, 0)))
    bdir = tmp_path / "basis"
    from mrsquant.basis.io import save_basis
    save_basis(basis, bdir)
    t1 = str(d / "sub-01_ses-pre_T1w.nii.gz")
    out = tmp_path / "out"
    for args, msg in (([str(a), str(b), "--t1", t1], "one T1 per input"),
                      ([str(far), "--t1", t1], "outside the T1's field of view"),
                      ([str(a), "--tissue-maps", str(d)], "--tissue-maps needs --t1")):
        assert main(["fit", *args, "--basis", str(bdir), "-o", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert msg in err and len(err.splitlines()) == 1, err
        assert not out.exists()
