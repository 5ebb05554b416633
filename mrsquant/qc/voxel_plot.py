"""The spectroscopy voxel on its T1: three orthogonal slices through the voxel centre.

The T1 and the mask are turned to the closest RAS orientation by axis flips and permutations
only (``nibabel.as_closest_canonical``: no resampling), so the panels are sagittal, coronal and
axial as the T1 was acquired (an oblique T1 stays oblique). The outline is the 50 % contour of
the partial-volume mask in each slice: where the voxel's box cuts the slice.
"""
from __future__ import annotations

import numpy as np

from . import style

OUTLINE_COLOUR = "#ffcc00"


def _canonical(t1_img, mask):
    import nibabel as nib  # lazy: heavy

    can = nib.as_closest_canonical(t1_img)
    ornt = nib.orientations.io_orientation(t1_img.affine)
    m = nib.orientations.apply_orientation(np.asarray(mask), ornt)
    return np.asarray(can.dataobj, dtype=float), m, can.affine, can.header.get_zooms()[:3]


def draw_voxel(fig, t1_img, mask, centre_mm, *, title: str = "", fractions: dict | None = None):
    """Draw three panels (sagittal, coronal, axial) on ``fig``; returns the axes."""
    data, m, affine, zooms = _canonical(t1_img, mask)
    centre_idx = np.linalg.inv(affine) @ np.append(np.asarray(centre_mm, dtype=float), 1.0)
    c = np.clip(np.round(centre_idx[:3]).astype(int), 0, np.array(data.shape) - 1)
    vmax = np.percentile(data[data > 0], 99.5) if np.any(data > 0) else 1.0
    panels = (
        ("sagittal", data[c[0], :, :], m[c[0], :, :], zooms[1] / zooms[2], "A", "P"),
        ("coronal", data[:, c[1], :], m[:, c[1], :], zooms[0] / zooms[2], "R", "L"),
        ("axial", data[:, :, c[2]], m[:, :, c[2]], zooms[0] / zooms[1], "R", "L"),
    )
    axs = fig.subplots(1, 3)
    for ax, (name, img, msk, aspect, right, left) in zip(axs, panels):
        # rows = first axis; show with the second (superior/anterior) axis upwards
        show, smask = img.T, msk.T
        if name == "axial" or name == "coronal":
            show, smask = show[:, ::-1], smask[:, ::-1]    # radiological: patient's right on the left
        ax.imshow(show, cmap="gray", origin="lower", vmin=0, vmax=vmax, aspect=1.0 / aspect,
                  interpolation="nearest")
        if np.any(smask > 0.5):
            ax.contour(smask, levels=[0.5], colors=OUTLINE_COLOUR, linewidths=1.0)
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
        if name != "sagittal":
            ax.text(0.02, 0.02, right, transform=ax.transAxes, color="white", fontsize=7)
            ax.text(0.95, 0.02, left, transform=ax.transAxes, color="white", fontsize=7)
        else:
            ax.text(0.02, 0.02, "P", transform=ax.transAxes, color="white", fontsize=7)
            ax.text(0.95, 0.02, "A", transform=ax.transAxes, color="white", fontsize=7)
    line = title
    if fractions:
        line += ("\n" if line else "") + "GM {gm:.2f}  WM {wm:.2f}  CSF {csf:.2f}".format(**fractions)
    if line:
        fig.suptitle(line, fontsize=9)
    return axs


def save_voxel_png(path, t1_img, mask, centre_mm, *, title: str = "", fractions: dict | None = None,
                   dpi: int = 120) -> None:
    """Write the three-slice picture to ``path`` (PNG; the caller makes the write atomic)."""
    import matplotlib  # lazy: heavy

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt  # lazy: heavy

    with plt.rc_context(style.RC):
        fig = plt.figure(figsize=(9.0, 3.4))
        try:
            draw_voxel(fig, t1_img, mask, centre_mm, title=title, fractions=fractions)
            fig.savefig(path, format="png", dpi=dpi)
        finally:
            plt.close(fig)
