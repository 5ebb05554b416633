"""The spectroscopy voxel in a T1's space and its tissue fractions: arrays in, arrays out.

The voxel is the box that the NIfTI-MRS affine maps the spatial index range
``[-0.5, n - 0.5]`` on (NIfTI: an affine maps voxel *centres*; spec2nii writes the voxel size
and angulation into its columns, the centre into its last column, for Siemens, Philips and GE).
Its mask in the T1's space holds, for every T1 voxel, the fraction of that voxel's volume inside
the box (sub-sampled ``oversample**3`` times per T1 voxel): the voxel's edges fall anywhere in
a T1 voxel, and a 0/1 mask from the T1 voxel centres alone is off by up to half a T1 voxel on
every face (about 5 % of the volume of a 2 cm voxel on a 1 mm T1).

Tissue fractions are mask-weighted sums of the tissue probability maps, normalised by their
sum (FSL-MRS ``svs_segment``, Osprey, Gannet): a voxel partly outside the skull-stripped brain
gets fractions of the brain tissue it holds, and ``brain`` reports how much of it that is.

Examples
--------
>>> import numpy as np
>>> t1_affine = np.eye(4)                       # 1 mm T1, origin at voxel 0
>>> mrs_affine = np.diag([4.0, 4.0, 4.0, 1.0])  # a 4 mm voxel centred on world (10, 10, 10)
>>> mrs_affine[:3, 3] = 10.0
>>> w = voxel_mask(mrs_affine, (20, 20, 20), t1_affine)
>>> round(float(w.sum()), 3)                    # 64 mm^3 in 1 mm^3 voxels
64.0
>>> gm = np.zeros((20, 20, 20)); gm[:10] = 1.0  # GM for x < 9.5 mm, WM above
>>> f = tissue_fractions(w, gm=gm, wm=1.0 - gm, csf=np.zeros_like(gm))
>>> round(f["gm"], 3), round(f["wm"], 3)        # the voxel spans 8-12 mm: 1.5 of 4 mm is GM
(0.375, 0.625)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError

#: Voxel edges (mm) outside this range mean the file carries no real geometry: spec2nii writes a
#: 10 m voxel for unlocalised data, and a reader without geometry leaves NIfTI's 1 mm default.
PLAUSIBLE_EDGE_MM = (2.0, 300.0)

#: Sub-samples per T1 voxel edge for the partial-volume mask (4**3 = 64 per voxel; even, so that
#: no sub-sample sits on a voxel centre, where a box edge through the centres would double-count).
OVERSAMPLE = 4

TISSUES = ("gm", "wm", "csf")


@dataclass(frozen=True)
class VoxelGeometry:
    """Centre (mm, world/scanner RAS), edge lengths (mm) and unit edge directions (columns)."""

    centre_mm: np.ndarray
    size_mm: np.ndarray
    directions: np.ndarray

    @property
    def volume_ml(self) -> float:
        return float(np.prod(self.size_mm)) / 1000.0


def voxel_geometry(affine, grid_shape=(1, 1, 1)) -> VoxelGeometry:
    """Geometry of the box covered by a spectroscopy grid ``grid_shape`` under ``affine``.

    Raises :class:`~mrsquant.errors.InputError` (one line) when the affine carries no
    plausible voxel geometry (None, singular, or edges outside ``PLAUSIBLE_EDGE_MM``).
    """
    if affine is None:
        raise InputError("the spectrum has no voxel geometry (no affine): cannot place it on the T1")
    a = np.asarray(affine, dtype=float)
    if a.shape != (4, 4) or not np.all(np.isfinite(a)):
        raise InputError("the spectrum's affine is not a finite 4x4 matrix: cannot place it on the T1")
    edges = np.linalg.norm(a[:3, :3], axis=0)
    lo, hi = PLAUSIBLE_EDGE_MM
    if abs(np.linalg.det(a[:3, :3])) < 1e-9 or np.any(edges < lo) or np.any(edges > hi):
        raise InputError("the spectrum has no voxel geometry (voxel edges "
                         + " x ".join(f"{e:g}" for e in edges)
                         + f" mm, plausible {lo:g}-{hi:g} mm): cannot place it on the T1")
    shape = np.asarray(grid_shape, dtype=float)
    centre_idx = (shape - 1.0) / 2.0
    centre = a[:3, :3] @ centre_idx + a[:3, 3]
    return VoxelGeometry(centre_mm=centre, size_mm=edges * shape, directions=a[:3, :3] / edges)


def box_corners_mm(affine, grid_shape=(1, 1, 1)) -> np.ndarray:
    """The 8 corners ``(8, 3)`` of the spectroscopy box in world mm."""
    a = np.asarray(affine, dtype=float)
    n = np.asarray(grid_shape, dtype=float)
    idx = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], dtype=float)
    idx = idx * n - 0.5
    return idx @ a[:3, :3].T + a[:3, 3]


def voxel_mask(mrs_affine, image_shape, image_affine, *, grid_shape=(1, 1, 1),
               oversample: int = OVERSAMPLE) -> np.ndarray:
    """Fraction ``(X, Y, Z)`` float32 of each image voxel inside the spectroscopy box.

    Parameters
    ----------
    mrs_affine : (4, 4) ndarray
        The spectrum's voxel-to-world affine (NIfTI-MRS).
    image_shape : tuple of 3 int
        Shape of the T1 (or tissue map) grid.
    image_affine : (4, 4) ndarray
        The T1's voxel-to-world affine (``nibabel`` ``img.affine``).
    grid_shape : tuple of 3 int
        Spatial shape of the spectroscopy grid (1, 1, 1 for single voxel).
    oversample : int
        Sub-samples per image voxel edge.

    Returns an all-zero array when the box misses the image.
    """
    voxel_geometry(mrs_affine, grid_shape)          # refuses an affine without geometry
    shape = tuple(int(s) for s in image_shape[:3])
    out = np.zeros(shape, dtype=np.float32)
    img_inv = np.linalg.inv(np.asarray(image_affine, dtype=float))
    corners = box_corners_mm(mrs_affine, grid_shape) @ img_inv[:3, :3].T + img_inv[:3, 3]
    lo = np.maximum(np.floor(corners.min(axis=0)).astype(int) - 1, 0)
    hi = np.minimum(np.ceil(corners.max(axis=0)).astype(int) + 2, shape)
    if np.any(hi <= lo):
        return out
    # image index -> spectroscopy index: one affine; the box is [-0.5, n - 0.5] on each axis
    m = np.linalg.inv(np.asarray(mrs_affine, dtype=float)) @ np.asarray(image_affine, dtype=float)
    grid = np.stack(np.meshgrid(*[np.arange(lo[i], hi[i]) for i in range(3)], indexing="ij"), axis=-1)
    base = grid.reshape(-1, 3).astype(float) @ m[:3, :3].T + m[:3, 3]
    n = np.asarray(grid_shape, dtype=float)
    steps = (np.arange(oversample) + 0.5) / oversample - 0.5
    offsets = np.stack(np.meshgrid(steps, steps, steps, indexing="ij"), axis=-1).reshape(-1, 3)
    counts = np.zeros(len(base), dtype=np.int32)
    for shift in offsets @ m[:3, :3].T:
        p = base + shift
        counts += np.all((p >= -0.5) & (p <= n - 0.5), axis=1)
    out[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] = (counts / len(offsets)).reshape(grid.shape[:3])
    return out


def tissue_fractions(weights, *, gm, wm, csf, image_affine=None, mrs_affine=None,
                     grid_shape=(1, 1, 1)) -> dict:
    """GM/WM/CSF fractions of the voxel from a mask and three tissue probability maps.

    Returns ``gm``, ``wm``, ``csf`` (sum 1), ``brain`` (fraction of the voxel's volume inside the
    maps' tissue, i.e. not outside the skull-stripped brain) and ``in_image`` (fraction of the
    voxel inside the image's field of view; needs both affines, NaN otherwise).
    Raises :class:`InputError` when the voxel holds no tissue (no overlap).
    """
    w = np.asarray(weights, dtype=float)
    maps = {t: np.clip(np.nan_to_num(np.asarray(p, dtype=float)), 0.0, None)
            for t, p in zip(TISSUES, (gm, wm, csf))}
    for t, p in maps.items():
        if p.shape != w.shape:
            raise InputError(f"the {t.upper()} map has shape {p.shape}, the voxel mask {w.shape}")
    sums = {t: float(np.sum(w * p)) for t, p in maps.items()}
    total = sum(sums.values())
    inside = float(w.sum())
    if inside <= 0 or total <= 1e-6 * max(inside, 1.0):
        raise InputError("the spectroscopy voxel does not overlap the T1's brain tissue "
                         "(check that the T1 and the spectrum come from the same session)")
    out = {t: sums[t] / total for t in TISSUES}
    out["brain"] = min(total / inside, 1.0)
    out["in_image"] = float("nan")
    if image_affine is not None and mrs_affine is not None:
        t1_voxel = abs(np.linalg.det(np.asarray(image_affine, dtype=float)[:3, :3]))
        box = voxel_geometry(mrs_affine, grid_shape).volume_ml * 1000.0
        out["in_image"] = float(min(inside * t1_voxel / box, 1.0))
    return out


def dice(mask_a, mask_b) -> float:
    """Dice overlap of two (partial-volume) masks on one grid: ``2 sum min(a, b) / (sum a + sum b)``.

    For 0/1 masks this is the usual Dice coefficient; with partial-volume weights it is the
    fuzzy Dice of the two volumes.
    """
    a, b = np.asarray(mask_a, dtype=float), np.asarray(mask_b, dtype=float)
    if a.shape != b.shape:
        raise InputError(f"masks on different grids: {a.shape} vs {b.shape} (register the T1s first)")
    s = a.sum() + b.sum()
    return float(2.0 * np.minimum(a, b).sum() / s) if s > 0 else float("nan")


def centre_distance_mm(affine_a, affine_b, grid_shape=(1, 1, 1)) -> float:
    """Distance (mm) between two voxels' centres in scanner coordinates."""
    ca = voxel_geometry(affine_a, grid_shape).centre_mm
    cb = voxel_geometry(affine_b, grid_shape).centre_mm
    return float(np.linalg.norm(ca - cb))


def placement(mrs_affine_a, mrs_affine_b, *, image_shape=None, image_affine=None,
              b_to_a=None, grid_shape=(1, 1, 1)) -> dict:
    """Voxel placement across two visits: ``centre_mm`` (distance of the centres) and ``dice``
    (overlap of the two masks on the grid ``image_shape`` / ``image_affine`` of visit a's image).

    ``b_to_a`` (4, 4) maps visit b's world (scanner) coordinates to visit a's (the registration
    of the two T1s); without it the two scanner spaces are taken as one, which holds only when
    the participant did not move between the scans (same session) and is otherwise a first
    look. ``dice`` is NaN without an image grid.
    """
    if b_to_a is not None:
        mrs_affine_b = np.asarray(b_to_a, dtype=float) @ np.asarray(mrs_affine_b, dtype=float)
    out = {"centre_mm": centre_distance_mm(mrs_affine_a, mrs_affine_b, grid_shape), "dice": float("nan")}
    if image_shape is not None and image_affine is not None:
        a = voxel_mask(mrs_affine_a, image_shape, image_affine, grid_shape=grid_shape)
        b = voxel_mask(mrs_affine_b, image_shape, image_affine, grid_shape=grid_shape)
        out["dice"] = dice(a, b)
    return out
