"""Voxel mask and tissue fractions against the analytic truth of synthetic phantoms."""
import numpy as np
import pytest

from mrsquant.errors import InputError
from mrsquant.quant import load_quant_config, voxel
from mrsquant.quant import synthetic as syn

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


def test_gaba_alpha_correction_hand_computed():
    """Harris et al. 2015 with Gannet's constants, computed by hand from the paper's formula:
    S_GABA/S_W = 0.002, TE 68 / TR 2000 ms, f = 0.5 / 0.4 / 0.1, water T1/T2 GM 1331/110, WM 832/79.2,
    CSF 3817/503 ms, c_w = 0.78/0.65/0.97 x 55.51 M, GABA T1/T2 1310/88 ms, MM 0.45, kappa 0.5,
    alpha 0.5, N_H 2 / 2."""
    from mrsquant.quant.tissue import gaba_alpha_corrected

    cfg = load_quant_config(
        tissue={"gm": 0.5, "wm": 0.4, "csf": 0.1},
        water={"t1_ms": {"gm": 1331.0, "wm": 832.0, "csf": 3817.0}, "t2_ms": {"gm": 110.0, "wm": 79.2, "csf": 503.0}},
        gaba={"mm_fraction": 0.45, "editing_efficiency": 0.5}, basis={"proton_scale": 2.0})
    # by hand: R_w = (1 - exp(-2000/T1)) exp(-68/T2)
    rw_gm = (1 - 0.222544) * 0.538923       # exp(-2000/1331) = 0.222544, exp(-68/110) = 0.538923
    rw_wm = (1 - 0.090370) * 0.423761       # exp(-2000/832) = 0.090370, exp(-68/79.2) = 0.423761
    rw_csf = (1 - 0.592164) * 0.873551      # exp(-2000/3817) = 0.592164, exp(-68/503) = 0.873551
    r_gaba = (1 - 0.217248) * 0.461752      # exp(-2000/1310) = 0.217248, exp(-68/88) = 0.461752
    water = 55510 * (0.5 * 0.78 * rw_gm + 0.4 * 0.65 * rw_wm + 0.1 * 0.97 * rw_csf)
    tiss = 0.002 * 1.0 * 0.45 / 0.5 * water / r_gaba
    expected = tiss / (0.5 + 0.5 * 0.4)
    got = gaba_alpha_corrected(np.array([0.2]), np.array([100.0]), cfg, te_ms=68, tr_ms=2000)
    assert got[0] == pytest.approx(expected, rel=1e-4)
    # group-normalised (Gannet's CorrFactor with mean GM 0.45, WM 0.45)
    norm = gaba_alpha_corrected(np.array([0.2]), np.array([100.0]), cfg, te_ms=68, tr_ms=2000,
                                group_means=(0.45, 0.45))
    assert norm[0] == pytest.approx(tiss * (0.45 + 0.5 * 0.45) / ((0.5 + 0.5 * 0.4) * 0.9), rel=1e-4)


def test_csf_corrected_is_gasparovic_for_a_half_half_voxel():
    """With GM = WM (equal water content and relaxation in both) and no CSF water signal difference,
    the CSF-corrected and fully corrected concentrations agree; CSF scales as 1/(1 - f_csf)."""
    from mrsquant.quant.tissue import csf_corrected
    from mrsquant.quant.water import metabolite_relaxation, water_scaled

    same = {"content": {"gm": 0.7, "wm": 0.7, "csf": 0.97}, "t1_ms": {"gm": 1400, "wm": 1400, "csf": 4000},
            "t2_ms": {"gm": 90, "wm": 90, "csf": 500}}
    cfg = load_quant_config(tissue={"gm": 0.5, "wm": 0.5, "csf": 0.0}, water=same)
    amp, area = np.array([[4.0]]), np.array([50.0])
    r_m = metabolite_relaxation(cfg, ["NAA"], 30, 2000)
    full, _ = water_scaled(amp, amp, ["NAA"], area, cfg, te_ms=30, tr_ms=2000)
    np.testing.assert_allclose(csf_corrected(amp, area, cfg, r_metabolite=r_m, te_ms=30, tr_ms=2000), full,
                               rtol=1e-12)
    cfg2 = load_quant_config(tissue={"gm": 0.4, "wm": 0.4, "csf": 0.2}, water=same)
    np.testing.assert_allclose(csf_corrected(amp, area, cfg2, r_metabolite=r_m, te_ms=30, tr_ms=2000),
                               full / 0.8, rtol=1e-12)
