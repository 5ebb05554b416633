"""The :class:`Basis` object: one FID per metabolite plus how it was made."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import axes
from ..errors import BasisMismatchError
from .names import canonical_name


@dataclass(frozen=True, eq=False)
class Basis:
    """Basis spectra.

    Parameters
    ----------
    fids : (n_metab, n_points) complex ndarray
        Time-domain basis FIDs, NIfTI-MRS sign convention (like ``Spectra``).
    names : tuple of str
        Canonical metabolite names (normalised on construction).
    dwelltime_s, spectrometer_frequency_mhz : float
    te_ms : float or None
    sequence : str
        e.g. ``press``, ``steam``, ``slaser``, ``mega-press``, or ``unknown``.
    scaling : (n_metab,) float ndarray
        Multiplier that turns a fitted amplitude into a concentration in the
        basis' own units (1 when the basis is normalised per molecule).
    provenance : dict
        Where the basis came from (file, simulator version, command).
    """

    fids: np.ndarray
    names: tuple[str, ...]
    dwelltime_s: float
    spectrometer_frequency_mhz: float
    te_ms: float | None = None
    sequence: str = "unknown"
    scaling: np.ndarray | None = None
    centre_ppm: float = axes.WATER_PPM
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        fids = np.atleast_2d(np.asarray(self.fids, dtype=np.complex128))
        names = tuple(canonical_name(n) for n in self.names)
        if fids.shape[0] != len(names):
            raise BasisMismatchError(f"{fids.shape[0]} basis FIDs but {len(names)} names")
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise BasisMismatchError(f"duplicate metabolite names after normalisation: {dup}")
        if not np.all(np.isfinite(fids)):
            raise BasisMismatchError("basis contains NaN or infinite values")
        scaling = np.ones(len(names)) if self.scaling is None else np.asarray(self.scaling, float)
        object.__setattr__(self, "fids", fids)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "scaling", scaling)

    @property
    def n_points(self) -> int:
        return self.fids.shape[1]

    @property
    def ppm(self) -> np.ndarray:
        return axes.ppm_axis(self.n_points, self.dwelltime_s, self.spectrometer_frequency_mhz,
                             self.centre_ppm)

    def replace(self, **changes) -> "Basis":
        return dataclasses.replace(self, **changes)

    def select(self, names) -> "Basis":
        """Keep only ``names`` (canonical or alias), in that order."""
        wanted = [canonical_name(n) for n in names]
        missing = [n for n in wanted if n not in self.names]
        if missing:
            raise BasisMismatchError(f"not in the basis: {missing} (have {list(self.names)})")
        idx = [self.names.index(n) for n in wanted]
        return self.replace(fids=self.fids[idx], names=tuple(wanted), scaling=self.scaling[idx])

    def drop(self, names) -> "Basis":
        gone = {canonical_name(n) for n in names}
        return self.select([n for n in self.names if n not in gone])

    def concat(self, other: "Basis") -> "Basis":
        """This basis plus the entries of ``other`` (resampled to this grid).

        The field must agree (``check_compatible``); names must not repeat.
        """
        other.check_compatible(spectrometer_frequency_mhz=self.spectrometer_frequency_mhz)
        if other.dwelltime_s != self.dwelltime_s or other.n_points != self.n_points:
            other = other.resample(self.dwelltime_s, self.n_points)
        prov = dict(self.provenance)
        prov.setdefault("added", []).append(dict(other.provenance, names=list(other.names)))
        return self.replace(fids=np.concatenate([self.fids, other.fids]),
                            names=self.names + other.names,
                            scaling=np.concatenate([self.scaling, other.scaling]), provenance=prov)

    def resample(self, dwelltime_s: float, n_points: int) -> "Basis":
        """Basis on another time grid (dwell time and length).

        Resampling is done in the time domain by band-limited (FFT)
        interpolation, which is exact for signals within the basis bandwidth;
        points beyond the basis' acquisition are zero.
        """
        if np.isclose(dwelltime_s, self.dwelltime_s, rtol=1e-6) and n_points <= self.n_points:
            return self.replace(fids=self.fids[:, :n_points].copy())
        t_new = np.arange(n_points) * dwelltime_s
        if dwelltime_s < self.dwelltime_s * (1 - 1e-3):   # 0.1 %: header rounding (RDA 833.0 vs IMA 833.3 us)
            raise BasisMismatchError(
                f"data bandwidth {1 / dwelltime_s:.0f} Hz exceeds the basis bandwidth "
                f"{1 / self.dwelltime_s:.0f} Hz; simulate a basis with a wider bandwidth")
        # Frequency-domain evaluation of the band-limited FID at arbitrary times.
        n = self.n_points
        spec = np.fft.fft(self.fids, axis=1) / n
        freqs = np.fft.fftfreq(n, self.dwelltime_s)
        t_max = n * self.dwelltime_s
        keep = t_new < t_max
        out = np.zeros((self.fids.shape[0], n_points), complex)
        # chunk over time to bound memory
        for start in range(0, int(keep.sum()), 512):
            tt = t_new[keep][start:start + 512]
            out[:, start:start + tt.size] = spec @ np.exp(2j * np.pi * np.outer(freqs, tt))
        return self.replace(fids=out, dwelltime_s=float(dwelltime_s))

    def check_compatible(self, *, spectrometer_frequency_mhz: float, te_ms: float | None = None,
                         tolerance_mhz: float = 0.5, strict_te: bool = False) -> list[str]:
        """Raise when the field differs; return warnings for a TE mismatch."""
        warnings = []
        if abs(spectrometer_frequency_mhz - self.spectrometer_frequency_mhz) > tolerance_mhz:
            raise BasisMismatchError(
                f"basis simulated at {self.spectrometer_frequency_mhz:.3f} MHz but the data are at "
                f"{spectrometer_frequency_mhz:.3f} MHz: use a basis for this field")
        if te_ms is not None and self.te_ms is not None and abs(te_ms - self.te_ms) > 1.0:
            msg = f"basis TE {self.te_ms:g} ms differs from the data TE {te_ms:g} ms"
            if strict_te:
                raise BasisMismatchError(msg)
            warnings.append(msg)
        return warnings

    def __repr__(self):
        return (f"Basis({len(self.names)} spectra: {', '.join(self.names)}; {self.n_points} points, "
                f"{self.spectrometer_frequency_mhz:.3f} MHz, TE {self.te_ms}, {self.sequence})")
