"""Voxel placement across the visits of one participant: overlap, centre shift, tissue change.

For every participant and every visit after the baseline, compared with the baseline visit:

- ``space = "common grid"`` when both visits' voxel masks (``fit --t1`` / ``segment``:
  ``voxel_mask.nii.gz``) lie on one grid (same shape and affine, i.e. the T1s were registered
  and resliced to one space before the masks were made): ``dice`` is the (partial-volume) Dice of
  the two masks (:func:`mrsquant.quant.voxel.dice`) and ``centre_distance_mm`` the distance of
  the masks' centres of mass in that space;
- ``space = "scanner"`` otherwise: ``centre_distance_mm`` is the distance of the two voxel
  centres in scanner coordinates (from the spectra's geometry), ``dice`` is empty, and a note
  warns that the distance includes the head's repositioning between sessions (it is a placement
  measure only when the head did not move, or after registration);
- ``delta_f_gm``, ``delta_f_wm``, ``delta_f_csf``: change of the voxel's tissue fractions
  (visit - baseline), when both are known;
- ``moved``: True when ``centre_distance_mm > max_shift_mm`` (default 5 mm) or ``dice <
  min_dice`` (default 0.7).

Why these defaults (:data:`DEFAULT_MAX_SHIFT_MM`, :data:`DEFAULT_MIN_DICE`): no consensus value
exists, so they follow from the geometry of the usual 20-30 mm voxel. A box of edge ``L``
shifted by ``d`` along one edge keeps ``Dice = 1 - d / L`` (0.75-0.83 for 5 mm); Dice 0.7 is a
6 mm shift along one edge of a 20 mm voxel, 9 mm of a 30 mm one, or 4-5 mm along each of two
edges of a 25 mm one: about a quarter of the voxel's volume replaced, which near a grey/white
boundary changes its tissue fractions by several percent, the size of the metabolite
changes that treatment studies look for. Both are options.

Examples
--------
>>> import numpy as np, pandas as pd
>>> grid = np.zeros((40, 40, 40)); a = grid.copy(); a[10:30, 10:30, 10:30] = 1
>>> b = grid.copy(); b[13:33, 14:34, 10:30] = 1                 # shifted by 3 and 4 voxels
>>> d = pair_overlap(a, b, np.eye(4), np.eye(4))
>>> round(d["dice"], 3), round(d["centre_distance_mm"], 3)
(0.68, 5.0)
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..quant import voxel

DEFAULT_MAX_SHIFT_MM = 5.0
DEFAULT_MIN_DICE = 0.7

PLACEMENT_COLUMNS = ("participant_id", "session_id", "baseline_session", "spectrum", "baseline_spectrum",
                     "space", "centre_distance_mm", "dice", "f_gm", "f_wm", "f_csf", "delta_f_gm",
                     "delta_f_wm", "delta_f_csf", "moved", "note")

SCANNER_NOTE = ("T1s not registered (masks on different grids): centre distance in scanner coordinates, "
                "includes head repositioning between sessions")


def mask_centre_mm(mask, affine) -> np.ndarray:
    """Centre of mass (world mm) of a (partial-volume) mask on the grid ``affine``."""
    w = np.asarray(mask, dtype=float)
    idx = np.array(np.nonzero(w > 0), dtype=float)
    wt = w[w > 0]
    com = (idx * wt).sum(axis=1) / wt.sum()
    a = np.asarray(affine, dtype=float)
    return a[:3, :3] @ com + a[:3, 3]


def same_grid(mask_a, affine_a, mask_b, affine_b, *, atol_mm: float = 1e-3) -> bool:
    """Whether two masks share one grid (shape and affine): Dice is then defined."""
    return (np.shape(mask_a) == np.shape(mask_b)
            and np.allclose(np.asarray(affine_a, float), np.asarray(affine_b, float), atol=atol_mm))


def pair_overlap(mask_a, mask_b, affine_a, affine_b) -> dict:
    """``dice`` and ``centre_distance_mm`` (centres of mass) of two masks on one grid."""
    if not same_grid(mask_a, affine_a, mask_b, affine_b):
        raise ValueError("masks on different grids")
    dist = float(np.linalg.norm(mask_centre_mm(mask_a, affine_a) - mask_centre_mm(mask_b, affine_b)))
    return {"dice": voxel.dice(mask_a, mask_b), "centre_distance_mm": dist}


def _compare(a: dict, b: dict) -> tuple[str, float, float, str]:
    """(space, centre distance, dice, note) of visit ``b`` against baseline ``a``."""
    ma, mb = a.get("mask"), b.get("mask")
    if ma is not None and mb is not None and same_grid(ma[0], ma[1], mb[0], mb[1]):
        d = pair_overlap(ma[0], mb[0], ma[1], mb[1])
        return "common grid", d["centre_distance_mm"], d["dice"], ""
    ca, cb = a.get("centre_mm"), b.get("centre_mm")
    if ca is None or cb is None:
        return "", np.nan, np.nan, "no voxel geometry for one of the visits"
    dist = float(np.linalg.norm(np.asarray(ca, float) - np.asarray(cb, float)))
    return "scanner", dist, np.nan, SCANNER_NOTE


def placement_table(spectra, voxels: dict, *, baseline: str | None = None,
                    max_shift_mm: float = DEFAULT_MAX_SHIFT_MM,
                    min_dice: float = DEFAULT_MIN_DICE) -> pd.DataFrame:
    """One row per (participant, visit after the baseline) with a voxel at both visits.

    Parameters
    ----------
    spectra : DataFrame
        ``participant_id, session_id, spectrum``, sessions in time order within a participant
        (the cohort's grid, :func:`spectra_grid`); the first row of a participant is its
        baseline unless ``baseline`` names the session.
    voxels : dict
        ``{spectrum: {"centre_mm": (3,), "mask": (array, affine) or None, "f_gm": .., ...}}``.
    """
    rows = []
    for pid, g in spectra.groupby("participant_id", sort=False):
        g = g[g["spectrum"].isin(list(voxels))]
        if len(g) < 2:
            continue
        base = g[g["session_id"] == baseline] if baseline is not None else g.iloc[:1]
        if base.empty:
            continue
        b0 = base.iloc[0]
        a = voxels[b0["spectrum"]]
        for r in g.itertuples(index=False):
            if r.spectrum == b0["spectrum"]:
                continue
            v = voxels[r.spectrum]
            space, dist, dice, note = _compare(a, v)
            row = {"participant_id": pid, "session_id": r.session_id, "baseline_session": b0["session_id"],
                   "spectrum": r.spectrum, "baseline_spectrum": b0["spectrum"], "space": space,
                   "centre_distance_mm": dist, "dice": dice}
            for t in ("gm", "wm", "csf"):
                fb, fv = a.get(f"f_{t}", np.nan), v.get(f"f_{t}", np.nan)
                row[f"f_{t}"] = fv
                row[f"delta_f_{t}"] = fv - fb
            moved = bool((np.isfinite(dist) and dist > max_shift_mm) or (np.isfinite(dice) and dice < min_dice))
            row["moved"] = moved
            if moved:
                why = [f"centre {dist:.1f} mm > {max_shift_mm:g}" if dist > max_shift_mm else "",
                       f"Dice {dice:.2f} < {min_dice:g}" if np.isfinite(dice) and dice < min_dice else ""]
                note = "; ".join(x for x in [*why, note] if x)
            row["note"] = note
            rows.append(row)
    return pd.DataFrame(rows, columns=list(PLACEMENT_COLUMNS))


def spectra_grid(ds) -> pd.DataFrame:
    """``participant_id, session_id, spectrum`` of a cohort Dataset, sessions in time order."""
    spec = ds["spectrum"].values
    rows = [(p, s, spec[i, j]) for i, p in enumerate(ds["participant"].values)
            for j, s in enumerate(ds["session"].values) if spec[i, j]]
    return pd.DataFrame(rows, columns=["participant_id", "session_id", "spectrum"])
