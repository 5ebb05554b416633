"""Voxel placement across visits: Dice of shifted boxes against the analytic value, scanner-space
fallback with its warning, fraction change, the moved flag, placement.tsv and the PDF page, and
the Osprey example's T1s and SDAT voxels."""
import re

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from mrsquant.app.longitudinal import run_longitudinal
from mrsquant.longitudinal import make_cohort
from mrsquant.longitudinal.placement import SCANNER_NOTE, placement_table
from mrsquant.quant import synthetic as syn
from mrsquant.quant import voxel

SHAPE = (48, 48, 48)
GRID = syn.grid_affine(SHAPE, (1, 1, 1))          # voxel centres at half-integers: box faces on voxel faces
EDGE = 20.0


def _box(shift=(0, 0, 0), degrees=(0, 0, 0)):
    return syn.box_affine((EDGE, EDGE, EDGE), degrees_xyz=degrees, centre_mm=np.asarray(shift, float) + 0.5)


def _visit(shift=(0, 0, 0), *, grid=GRID, f=(0.5, 0.4, 0.1)):
    aff = _box(shift)
    return {"centre_mm": voxel.voxel_geometry(aff).centre_mm,
            "mask": (voxel.voxel_mask(aff, SHAPE, grid), grid), "f_gm": f[0], "f_wm": f[1], "f_csf": f[2]}


@pytest.mark.parametrize("shift", [(3, 4, 0), (2, 0, 0), (1.5, 2.5, 3.0), (0, 0, 0)])
def test_dice_of_shifted_boxes_is_analytic(shift):
    """Two L-cubes shifted by (dx, dy, dz) overlap in prod(L - |d|): Dice = prod(L - |d|) / L^3
    (partial-volume masks: the faces fall anywhere in a T1 voxel)."""
    spectra = pd.DataFrame({"participant_id": ["sub-01"] * 2, "session_id": ["ses-pre", "ses-post"],
                            "spectrum": ["a", "b"]})
    tab = placement_table(spectra, {"a": _visit(), "b": _visit(shift, f=(0.45, 0.42, 0.13))})
    r = tab.iloc[0]
    expect = np.prod([EDGE - abs(d) for d in shift]) / EDGE ** 3
    assert r["space"] == "common grid"
    assert r["dice"] == pytest.approx(expect, abs=2e-3)
    assert r["centre_distance_mm"] == pytest.approx(np.linalg.norm(shift), abs=0.02)
    assert r["delta_f_gm"] == pytest.approx(-0.05) and r["delta_f_csf"] == pytest.approx(0.03)
    # flag: centre > 5 mm or Dice < 0.7 ((3, 4, 0): 5.0 mm, not more, but Dice 0.68)
    assert bool(r["moved"]) == (expect < 0.7 or np.linalg.norm(shift) > 5.0)


def test_different_grids_fall_back_to_scanner_centres():
    other = syn.grid_affine(SHAPE, (1.1, 1, 1), degrees_xyz=(0, 0, 7))    # another T1, not registered
    spectra = pd.DataFrame({"participant_id": ["p"] * 3, "session_id": ["ses-1", "ses-2", "ses-3"],
                            "spectrum": ["a", "b", "c"]})
    tab = placement_table(spectra, {"a": _visit(), "b": _visit((6, 0, 0), grid=other),
                                    "c": {"centre_mm": np.array([0.5, 0.5, 2.5]), "mask": None}})
    assert list(tab["space"]) == ["scanner", "scanner"]
    assert tab["dice"].isna().all()
    assert list(tab["centre_distance_mm"]) == pytest.approx([6.0, 2.0])
    assert list(tab["moved"]) == [True, False]
    assert SCANNER_NOTE in tab["note"].iloc[1] and "centre 6.0 mm > 5" in tab["note"].iloc[0]
    assert np.isnan(tab["delta_f_gm"].iloc[1])          # visit c: fractions unknown


def test_run_longitudinal_writes_placement(tmp_path, capsys):
    """A cohort's fit folder with fit --t1 outputs (fractions.tsv, NAME_voxel_mask.nii.gz): the
    placement table, the flag in the exclusions table, the PDF pages."""
    c = make_cohort(6, seed=3)
    fit = tmp_path / "fit"
    paths = c.write(fit)
    names = pd.read_csv(paths["concentrations"], sep="\t")["spectrum"].unique()
    shifts = {"sub-02": (3, 4, 0), "sub-03": (1, 0, 0)}
    rows = []
    for n in names:
        sub, ses = n.split("_")[:2]
        v = _visit(shifts.get(sub, (0, 0, 0)) if ses == "ses-post" else (0, 0, 0),
                   f=(0.5, 0.4, 0.1) if ses == "ses-pre" else (0.48, 0.41, 0.11))
        nib.save(nib.Nifti1Image(v["mask"][0], GRID), fit / f"{n}_voxel_mask.nii.gz")
        rows.append({"spectrum": n, "f_gm": v["f_gm"], "f_wm": v["f_wm"], "f_csf": v["f_csf"],
                     **{f"centre_{a}_mm": float(x) for a, x in zip("xyz", v["centre_mm"])}})
    pd.DataFrame(rows).to_csv(fit / "fractions.tsv", sep="\t", index=False)
    out = tmp_path / "out"
    res = run_longitudinal(fit, paths["scores"], outdir=out, n_boot=200)
    tab = pd.read_csv(out / "placement.tsv", sep="\t")
    assert len(tab) == 6 and set(tab["space"]) == {"common grid"}
    by = tab.set_index("participant_id")
    assert by.loc["sub-02", "dice"] == pytest.approx(0.68, abs=2e-3) and bool(by.loc["sub-02", "moved"])
    assert by.loc["sub-03", "dice"] == pytest.approx(0.95, abs=2e-3) and not by.loc["sub-03", "moved"]
    assert by.loc["sub-01", "delta_f_gm"] == pytest.approx(-0.02)
    flags = res.exclusions[res.exclusions["reason"].str.startswith("voxel placement moved")]
    assert list(flags["participant_id"]) == ["sub-02"] and set(flags["action"]) == {"kept"}
    assert any("voxel placement: 1 of 6" in line for line in res.summary())
    pdf = (out / "longitudinal.pdf").read_bytes()
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 2
    assert "warning" not in capsys.readouterr().err


OSPREY = "osprey_examples/exampledata/sdat/UnEdited_with_MM_data"


def test_osprey_voxels_as_two_visits(shared_data):
    """The Osprey example's two subjects as if two visits of one participant. sub-02's voxel
    placed on sub-01's T1 (one grid): Dice and the centres of mass; on their own T1s (two grids):
    the centre distance in scanner coordinates, equal to the SPAR off-centre difference."""
    from mrsquant.app.segment import voxel_fractions

    base = shared_data / OSPREY
    sdat = {s: next((base / f"sub-{s}/ses-01/mrs/sub-{s}_ses-01_press").glob("*.SDAT")) for s in ("01", "02")}
    t1 = {s: next((base / f"sub-{s}/ses-01/anat").glob("*.nii.gz")) for s in ("01", "02")}
    spar = {s: dict(re.findall(r"^(\w+)\s*:\s*(\S+)", p.with_suffix(".SPAR").read_text(errors="replace"), re.M))
            for s, p in sdat.items()}
    centre = {s: np.array([-float(h["lr_off_center"]), -float(h["ap_off_center"]), float(h["cc_off_center"])])
              for s, h in spar.items()}
    spectra = pd.DataFrame({"participant_id": ["p", "p"], "session_id": ["ses-1", "ses-2"], "spectrum": ["a", "b"]})
    vis = {}
    for key, s, t in (("a", "01", "01"), ("b", "02", "02"), ("b_on_01", "02", "01")):
        r = voxel_fractions(t1[t], sdat[s], tissue_maps=None)
        vis[key] = {"centre_mm": r["geometry"].centre_mm, "mask": (r["mask_t1"], r["t1"].affine),
                    **{f"f_{k}": r["fractions"][k] for k in ("gm", "wm", "csf")}}
    own = placement_table(spectra, {"a": vis["a"], "b": vis["b"]}).iloc[0]
    same = nib.load(t1["01"]).shape == nib.load(t1["02"]).shape and np.allclose(
        nib.load(t1["01"]).affine, nib.load(t1["02"]).affine)
    if not same:
        assert own["space"] == "scanner" and np.isnan(own["dice"])
    assert own["centre_distance_mm"] == pytest.approx(np.linalg.norm(centre["01"] - centre["02"]), abs=0.05)
    assert own["delta_f_gm"] == pytest.approx(vis["b"]["f_gm"] - vis["a"]["f_gm"])
    one = placement_table(spectra, {"a": vis["a"], "b": vis["b_on_01"]}).iloc[0]
    assert one["space"] == "common grid"
    # the centres of mass of the masks are the SPAR centres (to the T1's sampling), so the distance
    assert one["centre_distance_mm"] == pytest.approx(np.linalg.norm(centre["01"] - centre["02"]), abs=0.3)
    # same size (26 x 26 x 30 mm), centres ~12 mm apart, small angulation difference: partial overlap
    assert 0.3 < one["dice"] < 0.9 and bool(one["moved"])
