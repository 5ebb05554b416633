"""Eddy-current correction from a water reference (Klose 1990).

Eddy currents add a time-dependent phase ``phi_ec(t)`` that the water and the
metabolite signals from the same voxel share. The water reference, a strong
single line, measures it: ``phi_ref(t) = unwrap(angle(water(t)))``, and the
correction multiplies every FID by ``exp(-i * phi_ref(t))``. Where the water
signal has decayed into the noise its phase is noise, so from the first point
whose magnitude falls below ``snr_floor`` noise SDs the phase is continued as a
straight line fitted to the preceding reliable stretch.
Since the water line's own offset and phase are part of ``phi_ref``, the
correction also moves the water line to 0 Hz with zero phase.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..spectra import Spectra
from .record import add_processing

SNR_FLOOR = 10.0


def reference_phase(water_fid: np.ndarray, *, snr_floor: float = SNR_FLOOR) -> np.ndarray:
    """Unwrapped phase (rad) of a water FID ``(n,)``, extrapolated linearly where noisy."""
    fid = np.asarray(water_fid)
    n = fid.shape[-1]
    phase = np.unwrap(np.angle(fid))
    tail = fid[-max(16, n // 8):]
    noise = np.std(tail - tail.mean()) / np.sqrt(2) + 1e-300
    weak = np.flatnonzero(np.abs(fid) < snr_floor * noise)
    if weak.size and weak[0] > 8:
        stop = int(weak[0])
        start = max(0, stop - max(8, stop // 4))
        idx = np.arange(start, stop)
        slope, icpt = np.polyfit(idx, phase[start:stop], 1)
        phase = phase.copy()
        phase[stop:] = icpt + slope * np.arange(stop, n)
    return phase


def eddy_current_correction(spectra: Spectra, reference: Spectra, *,
                            snr_floor: float = SNR_FLOOR) -> tuple[Spectra, dict]:
    """Subtract the water reference's phase from every FID (Klose).

    Parameters
    ----------
    spectra : Spectra
        Any shape; every FID gets the same correction.
    reference : Spectra
        Water (ECC) reference, a single FID (average and combine coils first, with
        the same weights as the data) with the same dwell time and at least as
        many points.

    Returns
    -------
    corrected : Spectra
    info : dict
        ``phase_rad`` (n_points,): the phase removed.
    """
    if reference.data.ndim != 1:
        raise InputError(f"ECC reference must be a single FID (combine coils and average first), "
                         f"got dims {reference.dims}")
    if abs(reference.dwelltime_s - spectra.dwelltime_s) > 1e-9 * max(1.0, spectra.dwelltime_s * 1e9):
        raise InputError(f"ECC reference dwell time {reference.dwelltime_s:g} s differs from "
                         f"the data's {spectra.dwelltime_s:g} s")
    if reference.n_points < spectra.n_points:
        raise InputError(f"ECC reference has {reference.n_points} points, data have {spectra.n_points}")
    phase = reference_phase(reference.data, snr_floor=snr_floor)[:spectra.n_points]
    out = spectra.with_data(spectra.data * np.exp(-1j * phase))
    out = add_processing(out, "Eddy current correction",
                         f"Klose 1990: phase of the water reference subtracted, linear continuation "
                         f"below SNR {snr_floor:g}")
    return out, {"phase_rad": phase}
