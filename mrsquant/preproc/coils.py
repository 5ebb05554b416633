"""RF coil combination: SVD / reference-weighted, with noise pre-whitening.

The coil sensitivities ``s`` (complex, one per coil) are the dominant singular
vector of the ``(coil, time)`` matrix of the first points of a reference FID: the
water reference when given (its high SNR makes the estimate noise-free), else
the mean of the data over transients (Rodgers & Robson 2010's SVD method).
The noise covariance ``Psi`` across coils comes from a noise scan when given
(then the full matrix is used: pre-whitening), else from the signal-free tail of
the FIDs (then only its diagonal, per-coil noise variances). The combination is the
noise-optimal one (Roemer 1990)::

    combined = s^H Psi^-1 y / (s^H Psi^-1 s) * sum(|s|)

scaled so the combined signal has the size of a phased sum of the coils, and
phased so the reference's first point is real and positive. With
``prewhiten=False`` only the diagonal of ``Psi`` is used (per-coil noise
variance), which is the usual "signal / noise^2" weighting.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..spectra import Spectra
from ._dims import axis_of
from .record import add_processing

#: number of leading FID points used to estimate the coil sensitivities
N_SENS_POINTS = 64
#: fraction of the FID, from the end, taken as signal-free for the noise estimate
TAIL_FRACTION = 0.25


def _coil_first(data: np.ndarray, axis: int) -> np.ndarray:
    """``(coil, M, N)``: coil axis first, every other leading axis flattened into M."""
    d = np.moveaxis(data, axis, 0)
    return d.reshape(d.shape[0], -1, d.shape[-1])


def noise_covariance(noise: np.ndarray) -> np.ndarray:
    """``(coil, coil)`` complex covariance of noise samples ``(coil, ..., n)``."""
    x = noise.reshape(noise.shape[0], -1)
    x = x - x.mean(axis=1, keepdims=True)
    return (x @ x.conj().T) / max(1, x.shape[1] - 1)


def tail_noise(data: np.ndarray, axis: int, fraction: float = TAIL_FRACTION) -> np.ndarray:
    """Noise samples ``(coil, M, n_tail)`` from the last ``fraction`` of each FID,
    with the per-FID mean removed (a residual DC offset is not noise)."""
    d = _coil_first(data, axis)
    n_tail = max(16, int(d.shape[-1] * fraction))
    seg = d[..., -n_tail:]
    return seg - seg.mean(axis=-1, keepdims=True)


def coil_sensitivities(reference: np.ndarray, axis: int, n_points: int = N_SENS_POINTS) -> np.ndarray:
    """``(coil,)`` complex sensitivities from the first points of ``reference``.

    Rank-1 SVD of the ``(coil, M*n_points)`` matrix; the phase of the vector is
    chosen so that ``s^H ref[:, first point]`` is real and positive.
    """
    d = _coil_first(reference, axis)
    n = min(n_points, d.shape[-1])
    mat = d[..., :n].reshape(d.shape[0], -1)
    u, sv, vh = np.linalg.svd(mat, full_matrices=False)
    s = u[:, 0] * sv[0] / np.sqrt(mat.shape[1])
    first = d[:, :, 0].mean(axis=1)
    rot = np.vdot(s, first)
    if abs(rot) > 0:
        s = s * rot / abs(rot)
    return s


def combination_weights(sens: np.ndarray, psi: np.ndarray | None) -> np.ndarray:
    """``(coil,)`` complex weights ``w`` with ``combined = sum_c conj(w_c) y_c``."""
    if psi is None:
        psi = np.eye(len(sens))
    psi = psi + np.eye(len(sens)) * 1e-12 * np.real(np.trace(psi)) / len(sens)
    pinv_s = np.linalg.solve(psi, sens)
    norm = np.real(np.vdot(sens, pinv_s))
    return pinv_s / norm * np.sum(np.abs(sens))


def apply_coil_weights(spectra: Spectra, weights: np.ndarray, *, dim: str = "coil") -> Spectra:
    """Combine the ``dim`` axis with given weights (e.g. the metabolite data's weights
    applied to its water or ECC reference, so both share one scale)."""
    ax = axis_of(spectra, dim)
    weights = np.asarray(weights)
    if weights.shape != (spectra.shape[ax],):
        raise InputError(f"{len(weights)} coil weights for {spectra.shape[ax]} coils")
    data = np.tensordot(weights.conj(), np.moveaxis(spectra.data, ax, 0), axes=(0, 0))
    dims = spectra.dims[:ax] + spectra.dims[ax + 1:]
    return spectra.replace(data=data, dims=dims)


def combine_coils(spectra: Spectra, *, reference: Spectra | None = None,
                  noise: Spectra | np.ndarray | None = None, prewhiten: bool | None = None,
                  dim: str = "coil") -> tuple[Spectra, dict]:
    """Noise-optimal coil combination (SVD sensitivities, optional pre-whitening).

    Parameters
    ----------
    spectra : Spectra
        Data with a ``coil`` axis (and any others, e.g. ``dyn``).
    reference : Spectra, optional
        Water reference with the same coils; its mean over every non-coil axis
        gives the sensitivities. Default: the data's own mean.
    noise : Spectra or (coil, ...) ndarray, optional
        Noise-only samples for the covariance; default: the FID tails of the data.
    prewhiten : bool or None
        Use the full coil noise covariance (True) or only its diagonal (False);
        None (default): pre-whiten only when a noise scan is given (a covariance
        from FID tails can carry residual signal and did not pay off on the
        7T example data).

    Returns
    -------
    combined : Spectra
        ``spectra`` without the coil axis.
    info : dict
        ``weights`` (coil,), ``sensitivities`` (coil,), ``noise_covariance``
        (coil, coil), ``noise_source`` ("noise scan" or "FID tail").
    """
    ax = axis_of(spectra, dim)
    n_coil = spectra.shape[ax]
    if reference is not None:
        rax = axis_of(reference, dim)
        if reference.shape[rax] != n_coil:
            raise InputError(f"reference has {reference.shape[rax]} coils, data have {n_coil}")
        sens = coil_sensitivities(reference.data, rax)
    else:
        sens = coil_sensitivities(spectra.data, ax)
    if noise is not None:
        ndata = noise.data if isinstance(noise, Spectra) else np.asarray(noise)
        nax = axis_of(noise, dim) if isinstance(noise, Spectra) else 0
        ndata = np.moveaxis(ndata, nax, 0)
        if ndata.shape[0] != n_coil:
            raise InputError(f"noise has {ndata.shape[0]} coils, data have {n_coil}")
        psi, source = noise_covariance(ndata), "noise scan"
    else:
        psi, source = noise_covariance(tail_noise(spectra.data, ax)), "FID tail"
    if prewhiten is None:
        prewhiten = noise is not None
    psi_used = psi if prewhiten else np.diag(np.diag(psi).real)
    w = combination_weights(sens, psi_used)
    ref_data, ref_ax = (reference.data, rax) if reference is not None else (spectra.data, ax)
    first = _coil_first(ref_data, ref_ax)[:, :, 0].mean(axis=1)
    c = np.vdot(w, first)              # combined reference's first point: make it real positive
    if abs(c) > 0:
        w = w * c / abs(c)
    out = apply_coil_weights(spectra, w, dim=dim)
    details = (f"SVD sensitivities from {'reference' if reference is not None else 'mean of data'}, "
               f"{'pre-whitened (full noise covariance)' if prewhiten else 'noise-variance weighted'}, "
               f"noise from {source}")
    out = add_processing(out, "RF coil combination", details)
    return out, {"weights": w, "sensitivities": sens, "noise_covariance": psi, "noise_source": source}


def combine_reference(reference: Spectra) -> tuple[Spectra, dict]:
    """A water (or ECC) reference on its own made into one FID, on the scale the pipeline
    gives the metabolite data: coils combined by :func:`combine_coils` with sensitivities
    from the reference itself (the combined signal is the phased coil sum, whatever the
    weights), then the plain mean over every other axis (transients: the average keeps
    the scale of one transient, as :func:`~mrsquant.preproc.average` does for the data).

    For data that arrive already combined and averaged (another tool's output): a raw
    reference's plain mean over coils would let the coil phases cancel (on the 7T example
    data, mM came out 7x too high).
    """
    info: dict = {}
    if "coil" in reference.dims:
        reference, info = combine_coils(reference, reference=reference)
    if reference.dims:
        n = reference.n_points
        reference = reference.replace(data=reference.data.reshape(-1, n).mean(axis=0), dims=())
    return reference, info
