"""Tissue probability maps: from FreeSurfer labels, or by segmenting a skull-stripped T1.

Arrays in, arrays out (files are found and read in ``app/segment.py``). Every function returns
``{"gm", "wm", "csf"}`` float32 maps on the input grid, values 0-1.

Two segmenters, both needing a **skull-stripped** T1 (zero outside the brain; FSL ``bet``,
FreeSurfer ``mri_synthstrip``, HD-BET, SPM's brain mask...): neither strips the skull, and a T1
with scalp and skull gives wrong fractions (bone and fat fall into the CSF and WM classes).

- ``builtin`` (default, numpy/scipy only): the three class means by a 1-D Gaussian mixture (EM)
  of the brain intensities, then each voxel's partial volume by linear interpolation of its
  (lightly smoothed) intensity between the two neighbouring class means (the "mixel" model of
  Santago & Gage 1993 and Shattuck et al. 2001, without their Markov prior). No bias-field
  correction: intensity non-uniformity across the head shifts the fractions (run N4 first, as
  for FAST and Atropos).
- ``atropos``: ANTs Atropos (Avants et al. 2011; ``antspyx`` on PyPI, optional extra
  ``pip install mrsquant[segment]``: it pins numpy < 2.4 and scipy < 1.16), k-means start and an
  MRF prior; its three posterior probability maps are the tissue maps (CSF, GM, WM in order of
  mean intensity).
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError

SEGMENTERS = ("builtin", "atropos")

#: FreeSurfer ``aseg`` / ``aparc+aseg`` / ``wmparc`` labels (FreeSurferColorLUT.txt) -> tissue.
#: Cortex, cerebellar cortex and the subcortical grey nuclei are GM; cerebral and cerebellar WM,
#: WM hypointensities, the corpus callosum, optic chiasm and brain stem are WM; ventricles,
#: the 3rd/4th ventricle, choroid plexus and labelled CSF are CSF. Other labels (vessel, 0 =
#: unknown, which includes sulcal CSF outside the aseg's brain) count as no tissue.
FREESURFER_LABELS = {
    "gm": (3, 8, 10, 11, 12, 13, 17, 18, 26, 28, 42, 47, 49, 50, 51, 52, 53, 54, 58, 60, 80),
    "wm": (2, 7, 16, 41, 46, 77, 78, 79, 85, 192, 251, 252, 253, 254, 255),
    "csf": (4, 5, 14, 15, 24, 31, 43, 44, 63, 72),
}


def labels_to_tissue(labels) -> dict:
    """Tissue maps (0/1) from a FreeSurfer label volume (aseg, aparc+aseg or wmparc).

    Cortical parcels (1000-1035, 2000-2035, ctx labels of aparc) are GM; wmparc's WM parcels
    (3000-5002) are WM.
    """
    lab = np.asarray(labels)
    if not np.issubdtype(lab.dtype, np.integer):
        if not np.allclose(lab, np.round(lab)):
            raise InputError("a FreeSurfer segmentation holds integer labels; this image does not")
        lab = np.round(lab).astype(np.int64)
    out = {t: np.isin(lab, codes) for t, codes in FREESURFER_LABELS.items()}
    out["gm"] |= (lab >= 1000) & (lab < 3000)
    out["wm"] |= (lab >= 3000) & (lab <= 5002)
    return {t: m.astype(np.float32) for t, m in out.items()}


def _gmm_means(x: np.ndarray, *, iterations: int = 100) -> np.ndarray:
    """Means of the three pure classes (ascending) of a 1-D mixture fitted by EM, with two
    partial-volume classes between neighbours (mean halfway, variance of a uniform mix plus the
    noise): intermediate voxels go to those instead of pulling the pure means towards each other.
    """
    x = np.asarray(x, dtype=float)
    if len(x) > 400_000:                 # the means, not the voxels: a regular subsample will do
        x = np.sort(x)[:: len(x) // 400_000 + 1]
    lo, hi = np.percentile(x, [2.0, 98.0])
    mu = np.array([lo, (lo + hi) / 2.0, hi])     # start: darkest, middle and brightest
    sd = np.full(3, (hi - lo) / 20.0 + 1e-12)
    pi = np.full(5, 0.2)
    for _ in range(iterations):
        m5 = np.array([mu[0], (mu[0] + mu[1]) / 2, mu[1], (mu[1] + mu[2]) / 2, mu[2]])
        v5 = np.array([sd[0] ** 2, (sd[0] ** 2 + sd[1] ** 2) / 2 + (mu[1] - mu[0]) ** 2 / 12, sd[1] ** 2,
                       (sd[1] ** 2 + sd[2] ** 2) / 2 + (mu[2] - mu[1]) ** 2 / 12, sd[2] ** 2])
        logp = np.log(pi + 1e-300) - 0.5 * np.log(v5) - 0.5 * (x[:, None] - m5) ** 2 / v5
        logp -= logp.max(axis=1, keepdims=True)
        r = np.exp(logp)
        r /= r.sum(axis=1, keepdims=True)
        nk = r.sum(axis=0) + 1e-12
        pi = nk / nk.sum()
        pure = r[:, [0, 2, 4]]
        npure = nk[[0, 2, 4]]
        new_mu = (pure * x[:, None]).sum(axis=0) / npure
        sd = np.sqrt((pure * (x[:, None] - new_mu) ** 2).sum(axis=0) / npure) + 1e-12
        done = np.allclose(new_mu, mu, rtol=1e-6, atol=0)
        mu = np.sort(new_mu)
        if done:
            break
    return mu


def mixel_maps(image, means, mask) -> dict:
    """Partial volumes from intensities: linear between neighbouring class means (CSF<GM<WM)."""
    mc, mg, mw = (float(m) for m in means)
    x = np.asarray(image, dtype=float)
    gm_lo = np.clip((x - mc) / (mg - mc), 0.0, 1.0)     # CSF -> GM
    wm = np.clip((x - mg) / (mw - mg), 0.0, 1.0)        # GM -> WM
    below = x < mg
    out = {"csf": np.where(below, 1.0 - gm_lo, 0.0),
           "gm": np.where(below, gm_lo, 1.0 - wm),
           "wm": np.where(below, 0.0, wm)}
    return {t: np.where(mask, v, 0.0).astype(np.float32) for t, v in out.items()}


def segment_builtin(image, zooms_mm, *, mask=None, smooth_mm: float = 0.5) -> dict:
    """Segment a skull-stripped T1 with the built-in mixel model (module docstring)."""
    from scipy import ndimage  # lazy: heavy

    img = np.asarray(image, dtype=float)
    brain = (img > 0) if mask is None else np.asarray(mask, dtype=bool)
    if brain.sum() < 1000:
        raise InputError("the T1 has fewer than 1000 brain voxels: is it skull-stripped (zero "
                         "outside the brain)?")
    if np.mean(brain) > 0.85:
        raise InputError("more than 85 % of the T1 is non-zero: segmentation needs a skull-stripped "
                         "T1 (zero outside the brain; e.g. FSL bet or mri_synthstrip)")
    means = _gmm_means(img[brain])
    if smooth_mm > 0:
        sigma = smooth_mm / np.asarray(zooms_mm, dtype=float)
        # normalised convolution inside the brain: the zero background does not bleed in
        num = ndimage.gaussian_filter(np.where(brain, img, 0.0), sigma)
        den = ndimage.gaussian_filter(brain.astype(float), sigma)
        with np.errstate(invalid="ignore", divide="ignore"):
            img = np.where(brain, num / np.maximum(den, 1e-6), 0.0)
    return mixel_maps(img, means, brain)


def segment_atropos(image, zooms_mm, *, mask=None, mrf: float = 0.2, iterations: int = 5) -> dict:
    """Segment a skull-stripped T1 with ANTs Atropos (k-means start, 3 classes, MRF prior)."""
    try:
        import ants  # lazy: optional
    except ImportError as exc:
        raise InputError("the 'atropos' segmenter needs ANTsPy: pip install 'mrsquant[segment]' "
                         "(or use --segmenter builtin)") from exc
    img = np.asarray(image, dtype=np.float32)
    brain = (img > 0) if mask is None else np.asarray(mask, dtype=bool)
    spacing = tuple(float(z) for z in zooms_mm)
    a = ants.from_numpy(img, spacing=spacing)
    m = ants.from_numpy(brain.astype(np.float32), spacing=spacing)
    seg = ants.atropos(a=a, x=m, i="kmeans[3]", m=f"[{mrf},1x1x1]", c=f"[{iterations},0]",
                       verbose=0)
    probs = [p.numpy().astype(np.float32) for p in seg["probabilityimages"]]
    return {"csf": probs[0] * brain, "gm": probs[1] * brain, "wm": probs[2] * brain}


def segment_t1(image, zooms_mm, *, method: str = "builtin", mask=None) -> dict:
    """Tissue maps of a skull-stripped T1 ``(X, Y, Z)`` with voxel size ``zooms_mm``."""
    if method not in SEGMENTERS:
        raise InputError(f"unknown segmenter {method!r}; choose one of {', '.join(SEGMENTERS)}")
    img = np.asarray(image, dtype=float)
    if img.ndim != 3:
        raise InputError(f"a T1 is a 3-D image; this one has shape {img.shape}")
    if not np.all(np.isfinite(img)):
        img = np.nan_to_num(img)
    return (segment_builtin if method == "builtin" else segment_atropos)(img, zooms_mm, mask=mask)
