"""Voxel mask and tissue fractions against the analytic truth of synthetic phantoms."""
import numpy as np
import pytest

from mrsquant.errors import InputError
from mrsquant.quant import load_quant_config, synthetic as syn, voxel

SHAPE = (64, 64, 64)


@pytest.fixture(scope="module")
def slab_phantom():
    labels = syn.slabs(normal=(1, 0, 0), edges_mm=(-40, -6, 7, 40))          # CSF | GM | WM along x
    t1_affine = syn.grid_affine(SHAPE, (1.0, 1.0, 1.2), degrees_xyz=(10, -7, 20), centre_mm=(2, -3, 1))
    return labels, t1_affine, syn.tissue_maps(labels, SHAPE, t1_affine, oversample=4)


def test_slabs_exact_with_oblique_t1(slab_phantom):
    """Voxel aligned with the slabs, T1 oblique: the truth is arithmetic (x from -8.7 to 11.3 mm)."""
    _, t1_affine, maps = slab_phantom
    box = syn.box_affine((20, 25, 30), centre_mm=(1.3, 0.7, -2))
    f = voxel.tissue_fractions(voxel.voxel_mask(box, SHAPE, t1_affine), **maps,
                               image_affine=t1_affine, mrs_affine=box)
    truth = {"csf": 2.7 / 20, "gm": 13.0 / 20, "wm": 4.3 / 20}
    for t in truth:
        assert f[t] == pytest.approx(truth[t], abs=0.01 * truth[t] + 1e-4)
    assert f["gm"] + f["wm"] + f["csf"] == pytest.approx(1.0, abs=1e-9)
    assert f["in_image"] == pytest.approx(1.0, abs=1e-3) and f["brain"] == pytest.approx(1.0)


def test_voxel_rotated_relative_to_t1(slab_phantom):
    """Voxel rotated 15/25/-30 degrees: truth from sampling the box in world coordinates."""
    labels, t1_affine, maps = slab_phantom
    box = syn.box_affine((20, 25, 30), degrees_xyz=(15, 25, -30), centre_mm=(1.3, 0.7, -2))
    truth = syn.true_fractions(labels, box, samples=160)
    f = voxel.tissue_fractions(voxel.voxel_mask(box, SHAPE, t1_affine), **maps)
    for t in ("gm", "wm", "csf"):
        assert f[t] == pytest.approx(truth[t], abs=0.01)
    w = voxel.voxel_mask(box, SHAPE, t1_affine)
    assert w.sum() * 1.2 == pytest.approx(20 * 25 * 30, rel=0.005)          # volume in mm^3


def test_head_phantom_shells():
    labels = syn.head(radii_mm=(50, 60, 45))
    shape = (110, 130, 100)
    aff = syn.grid_affine(shape, (1, 1, 1), degrees_xyz=(5, 0, -8))
    maps = syn.tissue_maps(labels, shape, aff, oversample=2)
    box = syn.box_affine((20, 20, 20), degrees_xyz=(0, 20, 0), centre_mm=(0, -45, 0))
    truth = syn.true_fractions(labels, box)
    f = voxel.tissue_fractions(voxel.voxel_mask(box, shape, aff), **maps)
    for t in ("gm", "wm", "csf"):
        assert f[t] == pytest.approx(truth[t], abs=0.01)
    assert truth["csf"] > 0.2 and truth["gm"] > 0.2


def test_no_geometry_and_no_overlap_refused():
    with pytest.raises(InputError, match="no voxel geometry"):
        voxel.voxel_geometry(None)
    with pytest.raises(InputError, match="no voxel geometry"):
        voxel.voxel_geometry(np.diag([10000.0, 10000.0, 10000.0, 1.0]))   # spec2nii's unlocalised default
    far = syn.box_affine((20, 20, 20), centre_mm=(500, 0, 0))
    w = voxel.voxel_mask(far, SHAPE, np.eye(4))
    assert not w.any()
    ones = np.ones(SHAPE)
    with pytest.raises(InputError, match="does not overlap"):
        voxel.tissue_fractions(w, gm=ones, wm=ones, csf=ones)


def test_placement_dice_and_centre_distance():
    a = syn.box_affine((20, 20, 20), centre_mm=(0, 0, 0))
    b = syn.box_affine((20, 20, 20), centre_mm=(5, 0, 0))                   # moved 5 mm along x
    aff = syn.grid_affine((64, 64, 64), (1, 1, 1))
    p = voxel.placement(a, b, image_shape=(64, 64, 64), image_affine=aff)
    assert p["centre_mm"] == pytest.approx(5.0)
    assert p["dice"] == pytest.approx(15 / 20, abs=0.005)                   # overlap 15x20x20 of 20^3
    shift = np.eye(4)
    shift[0, 3] = -5.0                                                      # registration undoes it
    assert voxel.placement(a, b, image_shape=(64, 64, 64), image_affine=aff, b_to_a=shift)["dice"] \
        == pytest.approx(1.0, abs=1e-6)


def test_computed_fractions_equal_hand_typed(tmp_path):
    """The tissue.toml written from computed fractions gives the hand-typed path's config."""
    from mrsquant.app.segment import tissue_toml
    from mrsquant.quant.water import water_scaled

    f = {"gm": 0.61234, "wm": 0.30111, "csf": 0.08655}
    (tmp_path / "tissue.toml").write_text(tissue_toml(f, source="test", spectrum="x"))
    computed = load_quant_config(tmp_path / "tissue.toml")
    typed = load_quant_config(tissue={"gm": 0.6123, "wm": 0.3011, "csf": 0.0866})
    amp, sd, area = np.array([[3.0, 1.5]]), np.array([[0.1, 0.1]]), np.array([100.0])
    c1 = water_scaled(amp, sd, ["NAA", "Cr"], area, computed, te_ms=30, tr_ms=2000)
    c2 = water_scaled(amp, sd, ["NAA", "Cr"], area, typed, te_ms=30, tr_ms=2000)
    np.testing.assert_allclose(c1[0], c2[0], rtol=1e-12)
