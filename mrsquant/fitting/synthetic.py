"""Synthetic MRSI grids with known, spatially varying truth (tests and benchmarks).

Every voxel is a basis combination with a Lorentzian linewidth, a frequency
shift and a zero-order phase that vary across the grid, plus white complex
noise. NAA (and NAAG) follow a left-right gradient along ``x`` and the
choline compounds a front-back gradient along ``y``, so the expected maps of
NAA/tCr and tCho/tCr are known in closed form. Voxels outside an ellipse
("outside the head") hold noise only. An unsuppressed water reference with
its own spatial pattern is returned as well.
"""
from __future__ import annotations

import numpy as np

from .. import axes
from ..basis.basis import Basis
from ..spectra import Spectra
from .model import FitModel

#: typical relative amplitudes of a healthy 3T brain spectrum (basis units)
TYPICAL = {"NAA": 12.0, "NAAG": 1.5, "Cr": 5.0, "PCr": 4.0, "GPC": 1.0, "PCh": 0.6, "Glu": 10.0,
           "Gln": 3.0, "mI": 6.0, "GSH": 2.0, "Tau": 1.5, "GABA": 1.5, "Mac": 10.0, "Lac": 0.5,
           "Asp": 2.0, "sI": 0.3, "Gly": 1.0, "PE": 1.5}

#: default voxel-to-world transform: 10 mm voxels, an oblique-free slab off the isocentre
DEFAULT_AFFINE = np.array([[10.0, 0, 0, -155.0], [0, 10.0, 0, -170.0], [0, 0, 12.0, 20.0], [0, 0, 0, 1.0]])


def _ramp(n: int, lo: float, hi: float) -> np.ndarray:
    return np.linspace(lo, hi, n) if n > 1 else np.array([(lo + hi) / 2])


def simulate_mrsi(basis: Basis, shape=(4, 4, 1), *, naa_range=(0.7, 1.3), cho_range=(0.8, 1.2),
                  lw_hz_range=(3.0, 7.0), shift_hz_range=(-3.0, 3.0), phase_deg_range=(-20.0, 20.0),
                  noise_sd: float = 2.0, outside_ellipse: bool = False, water_amplitude: float = 2.0e4,
                  affine=None, te_ms: float = 30.0, tr_ms: float = 2000.0, seed: int = 0):
    """A simulated MRSI grid and its truth.

    Parameters
    ----------
    basis : Basis
        Basis whose grid (points, dwell time, field) the data use.
    shape : (nx, ny, nz)
    naa_range, cho_range : (float, float)
        Scale of NAA+NAAG from the first to the last ``x`` column, and of
        GPC+PCh from the first to the last ``y`` row (Cr and PCr are uniform).
    lw_hz_range, shift_hz_range, phase_deg_range : (float, float)
        Lorentzian linewidth (along ``y``), shift (along ``x``) and phase
        (along ``x + y``) of each voxel.
    noise_sd : float
        SD of the white noise per real component of each FID point.
    outside_ellipse : bool
        Voxels outside the ellipse inscribed in the x-y grid hold noise only.
    water_amplitude : float
        Mean amplitude of the water reference (varies +-10 % along ``y``).

    Returns
    -------
    spectra : Spectra
        Dims ``("x", "y", "z")``, the affine set.
    water : Spectra
        The unsuppressed water reference on the same grid.
    truth : dict
        ``amplitude (nx, ny, nz, M)`` in the basis order, ``names``, ``inside``
        (bool map), ``lw_hz``, ``shift_hz``, ``phase_deg``, ``water_amplitude`` maps.
    """
    nx, ny, nz = shape
    names = list(basis.names)
    base = np.array([TYPICAL.get(n, 0.0) for n in names])
    gx = _ramp(nx, *naa_range)[:, None, None] * np.ones((nx, ny, nz))
    gy = _ramp(ny, *cho_range)[None, :, None] * np.ones((nx, ny, nz))
    amp = np.broadcast_to(base, (nx, ny, nz, len(names))).copy()
    for n in ("NAA", "NAAG"):
        if n in names:
            amp[..., names.index(n)] *= gx
    for n in ("GPC", "PCh"):
        if n in names:
            amp[..., names.index(n)] *= gy
    ix, iy = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    if outside_ellipse:
        cx, cy = (nx - 1) / 2, (ny - 1) / 2
        inside2 = ((ix - cx) / (nx / 2)) ** 2 + ((iy - cy) / (ny / 2)) ** 2 <= 1.0
    else:
        inside2 = np.ones((nx, ny), bool)
    inside = np.repeat(inside2[:, :, None], nz, axis=2)
    amp[~inside] = 0.0
    lw = np.broadcast_to(_ramp(ny, *lw_hz_range)[None, :, None], shape).copy()
    shift = np.broadcast_to(_ramp(nx, *shift_hz_range)[:, None, None], shape).copy()
    frac = (ix + iy) / max(nx + ny - 2, 1)
    phase = np.repeat((phase_deg_range[0] + frac * np.ptp(phase_deg_range))[:, :, None], nz, axis=2)
    t = axes.time_axis(basis.n_points, basis.dwelltime_s)
    mod = np.exp(-2j * np.pi * shift[..., None] * t - np.pi * lw[..., None] * t
                 + 1j * np.deg2rad(phase)[..., None])
    rng = np.random.default_rng(seed)
    noise = noise_sd * (rng.standard_normal(shape + (t.size,)) + 1j * rng.standard_normal(shape + (t.size,)))
    fids = (amp @ basis.fids) * mod + noise
    water_amp = water_amplitude * np.broadcast_to(_ramp(ny, 0.9, 1.1)[None, :, None], shape)
    water_amp = np.where(inside, water_amp, 0.0)
    w_hz = axes.ppm_to_hz(axes.WATER_PPM, basis.spectrometer_frequency_mhz, basis.centre_ppm)
    w_noise = rng.standard_normal(shape + (t.size,)) + 1j * rng.standard_normal(shape + (t.size,))
    wfid = water_amp[..., None] * np.exp(2j * np.pi * w_hz * t) * mod + noise_sd * w_noise
    affine = DEFAULT_AFFINE.copy() if affine is None else np.asarray(affine, float)
    common = dict(dims=("x", "y", "z"), dwelltime_s=basis.dwelltime_s,
                  spectrometer_frequency_mhz=basis.spectrometer_frequency_mhz, te_ms=te_ms, tr_ms=tr_ms,
                  centre_ppm=basis.centre_ppm, affine=affine)
    truth = {"amplitude": amp, "names": names, "inside": inside, "lw_hz": lw, "shift_hz": shift,
             "phase_deg": phase, "water_amplitude": water_amp}
    return Spectra(data=fids, **common), Spectra(data=wfid, **common), truth


def challenge_like(spectra: Spectra, n: int, *, seed: int = 0) -> Spectra:
    """``n`` spectra made by cycling through ``spectra`` (``(K, P)``) with fresh noise added.

    The added noise has the SD each source spectrum already carries (estimated
    from its last 10 % of FID points), so every copy is a new noise realisation
    at about 1/sqrt(2) of the source SNR.
    """
    src = spectra.flat()
    k, p = src.shape
    tail = src[:, -max(p // 10, 16):]
    sd = np.std(np.concatenate([tail.real, tail.imag], axis=1), axis=1)
    rng = np.random.default_rng(seed)
    idx = np.arange(n) % k
    noise = rng.standard_normal((n, p)) + 1j * rng.standard_normal((n, p))
    return spectra.replace(data=src[idx] + sd[idx, None] * noise, dims=("spectrum",), affine=None)


def singlet_basis(n_points: int = 1024, dwelltime_s: float = 1 / 2000.0, f0_mhz: float = 123.2) -> Basis:
    """Three undamped singlets (NAA 2.008, Cr 3.027, PCh 3.208 ppm): a basis whose spectra are
    known in closed form, for examples and analytic tests."""
    t = axes.time_axis(n_points, dwelltime_s)
    ppm = {"NAA": 2.008, "Cr": 3.027, "PCh": 3.208}
    fids = np.array([np.exp(2j * np.pi * axes.ppm_to_hz(p, f0_mhz, axes.WATER_PPM) * t) for p in ppm.values()])
    return Basis(fids=fids, names=tuple(ppm), dwelltime_s=dwelltime_s, spectrometer_frequency_mhz=f0_mhz,
                 te_ms=30.0, sequence="analytic", provenance={"source": "singlet_basis"})


def singlet_spectra(amplitudes, *, lw_hz: float = 4.0, noise_sd: float = 0.0, seed: int = 0,
                    basis: Basis | None = None) -> Spectra:
    """Spectra ``(N, n_points)``: the singlet basis times ``amplitudes`` ``(N, 3)``, Lorentzian
    lines of ``lw_hz``, optional white complex noise. The true amplitudes are ``amplitudes``."""
    basis = basis if basis is not None else singlet_basis()
    amp = np.atleast_2d(np.asarray(amplitudes, float))
    t = axes.time_axis(basis.fids.shape[1], basis.dwelltime_s)
    fid = (amp @ basis.fids) * np.exp(-np.pi * lw_hz * t)
    rng = np.random.default_rng(seed)
    fid = fid + noise_sd * (rng.standard_normal(fid.shape) + 1j * rng.standard_normal(fid.shape))
    return Spectra(data=fid.astype(np.complex64), dwelltime_s=basis.dwelltime_s,
                   spectrometer_frequency_mhz=basis.spectrometer_frequency_mhz, te_ms=basis.te_ms,
                   dims=("spectrum",))


def synthetic_fit(n: int = 2, *, noise_sd: float = 0.05, seed: int = 0):
    """A small :class:`~mrsquant.fitting.result.FitResult`: ``n`` singlet spectra with amplitudes
    NAA 10, Cr 8, PCh 2 fitted without baseline (examples and doctests)."""

    basis = singlet_basis()
    spectra = singlet_spectra(np.tile([10.0, 8.0, 2.0], (n, 1)), noise_sd=noise_sd, seed=seed, basis=basis)
    return FitModel(basis, baseline="none", lineshape="lorentzian").fit(spectra)
