"""Segmentation, tissue-map formats, and 'mrsquant segment' on synthetic and real (Osprey) T1s."""
import re

import nibabel as nib
import numpy as np
import pytest

from mrsquant.cli import main
from mrsquant.io import save
from mrsquant.quant import segment, voxel
from mrsquant.quant import synthetic as syn
from mrsquant.spectra import Spectra

SHAPE = (110, 130, 100)


@pytest.fixture(scope="module")
def head():
    labels = syn.head(radii_mm=(50, 60, 45))
    aff = syn.grid_affine(SHAPE, (1, 1, 1), degrees_xyz=(8, -5, 12))
    maps = syn.tissue_maps(labels, SHAPE, aff, oversample=2)
    return labels, aff, maps, syn.t1_image(maps, noise_sd=0.03, seed=1)


def test_builtin_segmentation_against_phantom(head):
    labels, aff, maps, t1 = head
    seg = segment.segment_t1(t1, (1, 1, 1))
    mu = segment._gmm_means(t1[t1 > 0])
    np.testing.assert_allclose(mu, [0.18, 0.62, 1.0], atol=0.02)            # T1W_INTENSITY
    box = syn.box_affine((20, 20, 20), degrees_xyz=(10, 0, 0), centre_mm=(0, 36, 8))   # GM/WM border
    truth = syn.true_fractions(labels, box)
    f = voxel.tissue_fractions(voxel.voxel_mask(box, SHAPE, aff), **seg)
    for t in ("gm", "wm", "csf"):
        assert f[t] == pytest.approx(truth[t], abs=0.02)


def test_unstripped_t1_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(Exception, match="skull-stripped"):
        segment.segment_t1(rng.uniform(0.1, 1.0, (40, 40, 40)), (1, 1, 1))


def test_freesurfer_labels():
    lab = np.array([[[3, 2, 4, 0, 1024, 3001, 17, 24]]])
    m = segment.labels_to_tissue(lab)
    assert m["gm"].ravel().tolist() == [1, 0, 0, 0, 1, 0, 1, 0]
    assert m["wm"].ravel().tolist() == [0, 1, 0, 0, 0, 1, 0, 0]
    assert m["csf"].ravel().tolist() == [0, 0, 1, 0, 0, 0, 0, 1]


def _spectrum(tmp_path, affine):
    t = np.arange(1024) * 2.5e-4
    s = Spectra(data=np.exp(-t / 0.05 + 0j), dwelltime_s=2.5e-4, spectrometer_frequency_mhz=123.2,
                te_ms=30, tr_ms=2000, affine=affine)
    path = tmp_path / "svs.nii.gz"
    save(s, path)
    return path


@pytest.mark.parametrize("fmt", ["fsl-fast", "spm", "freesurfer"])
def test_cli_with_tissue_maps(tmp_path, head, fmt):
    labels, aff, maps, t1 = head
    nib.save(nib.Nifti1Image(t1, aff), tmp_path / "t1.nii.gz")
    names = {"fsl-fast": {"csf": "t1_pve_0", "gm": "t1_pve_1", "wm": "t1_pve_2"},
             "spm": {"gm": "c1t1", "wm": "c2t1", "csf": "c3t1"}}
    tpm = tmp_path / "tpm"
    tpm.mkdir()
    if fmt == "freesurfer":
        lab = np.zeros(SHAPE, np.int32)
        for t, code in (("gm", 3), ("wm", 2), ("csf", 4)):
            lab[maps[t] >= 0.5] = code
        nib.save(nib.Nifti1Image(lab, aff), tpm / "aseg.nii.gz")
    else:
        for t, n in names[fmt].items():
            nib.save(nib.Nifti1Image(maps[t], aff), tpm / f"{n}.nii.gz")
    box = syn.box_affine((20, 20, 20), degrees_xyz=(10, 0, 0), centre_mm=(0, 36, 8))
    out = tmp_path / "out"
    assert main(["segment", str(tmp_path / "t1.nii.gz"), str(_spectrum(tmp_path, box)), "-o", str(out),
                 "--tissue-maps", str(tpm), "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["fractions.tsv", "tissue.toml", "voxel.png",
                                                     "voxel_mask.nii.gz"]
    head_, row = (line.split("\t") for line in (out / "fractions.tsv").read_text().splitlines())
    r = dict(zip(head_, row))
    truth = syn.true_fractions(labels, box)
    tol = 0.03 if fmt == "freesurfer" else 0.01      # labels are hard (0/1) voxels
    assert r["source"] == fmt
    for t in ("gm", "wm", "csf"):
        assert float(r[f"f_{t}"]) == pytest.approx(truth[t], abs=tol)
    mask = nib.load(out / "voxel_mask.nii.gz")
    assert float(np.asarray(mask.dataobj).sum()) == pytest.approx(8000, rel=0.005)
    assert "[tissue]" in (out / "tissue.toml").read_text()


def test_cli_refusals(tmp_path, head, capsys):
    _, aff, _, t1 = head
    nib.save(nib.Nifti1Image(t1, aff), tmp_path / "t1.nii.gz")
    far = _spectrum(tmp_path, syn.box_affine((20, 20, 20), centre_mm=(400, 0, 0)))
    out = tmp_path / "out"
    assert main(["segment", str(tmp_path / "t1.nii.gz"), str(far), "-o", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "outside the T1's field of view" in err and len(err.splitlines()) == 1
    nogeo = _spectrum(tmp_path, np.diag([10000.0, 10000.0, 10000.0, 1.0]))
    assert main(["segment", str(tmp_path / "t1.nii.gz"), str(nogeo), "-o", str(out), "--quiet"]) == 2
    assert "no voxel geometry" in capsys.readouterr().err
    assert not out.exists()


OSPREY = "osprey_examples/exampledata/sdat/UnEdited_with_MM_data"


@pytest.mark.parametrize("sub", ["01", "02"])
def test_osprey_sdat_on_t1(shared_data, tmp_path, sub):
    """Philips SDAT/SPAR + skull-stripped T1 in scanner space: centre as the SPAR says (LPS ->
    RAS: x = -lr, y = -ap, z = cc), sizes as the SPAR, fractions summing to 1 and plausible
    for a parietal/posterior cingulate voxel (mostly WM and GM, little CSF)."""
    base = shared_data / OSPREY / f"sub-{sub}" / "ses-01"
    sdat = next((base / "mrs" / f"sub-{sub}_ses-01_press").glob("*.SDAT"))
    spar = sdat.with_suffix(".SPAR")
    t1 = next((base / "anat").glob("*.nii.gz"))
    hdr = dict(re.findall(r"^(\w+)\s*:\s*(\S+)", spar.read_text(errors="replace"), re.M))
    out = tmp_path / "out"
    assert main(["segment", str(t1), str(sdat), "-o", str(out), "--quiet"]) == 0
    head_, row = (line.split("\t") for line in (out / "fractions.tsv").read_text().splitlines())
    r = {k: v for k, v in zip(head_, row)}
    centre = [float(r[f"centre_{a}_mm"]) for a in "xyz"]
    np.testing.assert_allclose(centre, [-float(hdr["lr_off_center"]), -float(hdr["ap_off_center"]),
                                        float(hdr["cc_off_center"])], atol=0.01)
    assert sorted(float(r[f"size_{i}_mm"]) for i in (1, 2, 3)) == sorted(
        float(hdr[k]) for k in ("ap_size", "lr_size", "cc_size"))
    f = {t: float(r[f"f_{t}"]) for t in ("gm", "wm", "csf")}
    assert sum(f.values()) == pytest.approx(1.0, abs=1e-3)
    assert 0.25 < f["gm"] < 0.6 and 0.35 < f["wm"] < 0.75 and f["csf"] < 0.1
    assert float(r["brain"]) > 0.95 and float(r["in_image"]) > 0.99
    # the mask sits where the SPAR puts the voxel: its centre of mass in world mm
    m = nib.load(out / "voxel_mask.nii.gz")
    w = np.asarray(m.dataobj)
    idx = np.array(np.nonzero(w)).T
    com = (idx * w[w > 0][:, None]).sum(0) / w.sum()
    np.testing.assert_allclose(m.affine[:3, :3] @ com + m.affine[:3, 3], centre, atol=0.5)


def test_cli_other_visit_columns(tmp_path, head):
    _, aff, _, t1 = head
    nib.save(nib.Nifti1Image(t1, aff), tmp_path / "t1.nii.gz")
    a = _spectrum(tmp_path, syn.box_affine((20, 20, 20), centre_mm=(0, 36, 8)))
    (tmp_path / "b").mkdir()
    b = _spectrum(tmp_path / "b", syn.box_affine((20, 20, 20), centre_mm=(0, 40, 8)))   # 4 mm anterior
    out = tmp_path / "out"
    assert main(["segment", str(tmp_path / "t1.nii.gz"), str(a), "-o", str(out), "--other-visit", str(b),
                 "--quiet"]) == 0
    head_, row = (line.split("\t") for line in (out / "fractions.tsv").read_text().splitlines())
    r = dict(zip(head_, row))
    assert float(r["centre_distance_mm"]) == pytest.approx(4.0, abs=1e-3)
    assert float(r["dice"]) == pytest.approx(16 / 20, abs=0.005)
