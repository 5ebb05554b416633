"""Synthetic T1 phantoms with known tissue geometry, for tests, doctests and benchmarks.

A phantom is a function ``labels(points_mm) -> int`` in world coordinates (0 outside the head,
1 GM, 2 WM, 3 CSF: :data:`LABELS`). Its tissue probability maps on any grid (oblique affines
included) are the fraction of each image voxel's sub-samples with that label, and the true
fractions of a spectroscopy voxel come from sampling the box itself in world coordinates: no
image grid, no mask, so they are an independent truth for :func:`mrsquant.quant.voxel.voxel_mask`.

Examples
--------
>>> import numpy as np
>>> labels = slabs(normal=(1, 0, 0), edges_mm=(-30, -5, 5, 30))   # CSF | GM | WM slabs along x
>>> box = np.diag([20.0, 20.0, 20.0, 1.0])                          # 2 cm voxel at the origin
>>> f = true_fractions(labels, box)
>>> round(f["csf"], 3), round(f["gm"], 3), round(f["wm"], 3)
(0.25, 0.5, 0.25)
"""
from __future__ import annotations

import numpy as np

#: label values of a phantom
LABELS = {"none": 0, "gm": 1, "wm": 2, "csf": 3}

#: T1-weighted intensities (arbitrary units) of the three tissues (WM brightest, CSF darkest)
T1W_INTENSITY = {"gm": 0.62, "wm": 1.0, "csf": 0.18}


def rotation(degrees_xyz) -> np.ndarray:
    """Rotation matrix ``Rz @ Ry @ Rx`` from angles (degrees) about x, y and z."""
    ax, ay, az = np.radians(np.asarray(degrees_xyz, dtype=float))
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


def grid_affine(shape, zooms_mm, *, degrees_xyz=(0, 0, 0), centre_mm=(0, 0, 0)) -> np.ndarray:
    """Affine of a grid ``shape`` with voxel size ``zooms_mm``, rotated, its centre at ``centre_mm``."""
    a = np.eye(4)
    a[:3, :3] = rotation(degrees_xyz) * np.asarray(zooms_mm, dtype=float)
    mid = (np.asarray(shape, dtype=float) - 1.0) / 2.0
    a[:3, 3] = np.asarray(centre_mm, dtype=float) - a[:3, :3] @ mid
    return a


def box_affine(size_mm, *, degrees_xyz=(0, 0, 0), centre_mm=(0, 0, 0)) -> np.ndarray:
    """NIfTI-MRS affine of one spectroscopy voxel (edges ``size_mm``, rotated, centred)."""
    return grid_affine((1, 1, 1), size_mm, degrees_xyz=degrees_xyz, centre_mm=centre_mm)


def slabs(*, normal=(1, 0, 0), edges_mm=(-30, -5, 5, 30), order=("csf", "gm", "wm")):
    """Three tissue slabs along ``normal``: ``order[i]`` between ``edges_mm[i]`` and ``edges_mm[i+1]``."""
    n = np.asarray(normal, dtype=float)
    n = n / np.linalg.norm(n)
    edges = np.asarray(edges_mm, dtype=float)
    codes = np.array([LABELS[t] for t in order])

    def labels(points):
        d = np.asarray(points) @ n
        idx = np.searchsorted(edges, d, side="right") - 1
        inside = (idx >= 0) & (idx < len(codes))
        return np.where(inside, codes[np.clip(idx, 0, len(codes) - 1)], 0)

    return labels


def head(*, radii_mm=(70, 85, 60), centre_mm=(0, 0, 0), wm=0.62, gm=0.80, ventricle_mm=(8, 22, 10),
         ventricle_offset_mm=(0, 5, 5)):
    """Ellipsoid head: WM core (relative radius < ``wm``), GM shell (< ``gm``), CSF shell (< 1),
    and a CSF ventricle ellipsoid in the WM (skull-stripped: nothing outside the CSF shell)."""
    r = np.asarray(radii_mm, dtype=float)
    c = np.asarray(centre_mm, dtype=float)
    vr = np.asarray(ventricle_mm, dtype=float)
    vc = c + np.asarray(ventricle_offset_mm, dtype=float)

    def labels(points):
        p = np.asarray(points, dtype=float)
        u = np.sqrt(np.sum(((p - c) / r) ** 2, axis=-1))
        v = np.sqrt(np.sum(((p - vc) / vr) ** 2, axis=-1))
        out = np.where(u < 1.0, LABELS["csf"], 0)
        out = np.where(u < gm, LABELS["gm"], out)
        out = np.where(u < wm, LABELS["wm"], out)
        return np.where(v < 1.0, LABELS["csf"], out)

    return labels


def _offsets(oversample: int) -> np.ndarray:
    steps = (np.arange(oversample) + 0.5) / oversample - 0.5
    return np.stack(np.meshgrid(steps, steps, steps, indexing="ij"), axis=-1).reshape(-1, 3)


def tissue_maps(labels, shape, affine, *, oversample: int = 3) -> dict:
    """Partial-volume maps ``{"gm", "wm", "csf"}`` (float32, ``shape``) of a phantom on a grid."""
    a = np.asarray(affine, dtype=float)
    shape = tuple(int(s) for s in shape)
    maps = {t: np.zeros(shape, dtype=np.float32) for t in ("gm", "wm", "csf")}
    offsets = _offsets(oversample)
    ij = np.stack(np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij"), axis=-1)
    ij = ij.reshape(-1, 2).astype(float)
    for k in range(shape[2]):                       # one slice at a time: bounded memory
        idx = np.column_stack([ij, np.full(len(ij), float(k))])
        counts = {t: np.zeros(len(idx)) for t in maps}
        for off in offsets:
            lab = labels((idx + off) @ a[:3, :3].T + a[:3, 3])
            for t in maps:
                counts[t] += lab == LABELS[t]
        for t in maps:
            maps[t][:, :, k] = (counts[t] / len(offsets)).reshape(shape[:2])
    return maps


def t1_image(maps: dict, *, noise_sd: float = 0.0, seed: int = 0, intensity=None) -> np.ndarray:
    """A skull-stripped T1-weighted image: partial-volume mix of the tissue intensities plus
    Gaussian noise inside the head (zero outside)."""
    intensity = intensity or T1W_INTENSITY
    img = sum(maps[t].astype(float) * intensity[t] for t in ("gm", "wm", "csf"))
    head_mask = sum(maps[t] for t in ("gm", "wm", "csf")) > 0
    if noise_sd > 0:
        rng = np.random.default_rng(seed)
        img = img + head_mask * rng.normal(0.0, noise_sd, img.shape)
    return np.where(head_mask, img, 0.0).astype(np.float32)


def true_fractions(labels, mrs_affine, *, samples: int = 100) -> dict:
    """GM/WM/CSF fractions of the box ``mrs_affine`` from ``samples**3`` points inside it (world
    coordinates, no image grid), normalised over tissue; ``brain`` = tissue share of the box."""
    a = np.asarray(mrs_affine, dtype=float)
    lab = labels(_offsets(samples) @ a[:3, :3].T + a[:3, 3])
    counts = {t: float(np.count_nonzero(lab == LABELS[t])) for t in ("gm", "wm", "csf")}
    total = sum(counts.values())
    out = {t: (c / total if total else float("nan")) for t, c in counts.items()}
    out["brain"] = total / lab.size
    return out
