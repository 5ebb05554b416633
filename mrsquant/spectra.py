"""The one core data object: :class:`Spectra`.

A frozen dataclass holding complex FIDs ``(..., n_points)`` in the NIfTI-MRS
sign convention (docs/conventions.md) plus the metadata needed to interpret
them. Metadata are validated on construction: a wrong unit is an error with a
message saying what was probably meant, never a silently wrong concentration.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import axes
from .errors import MetadataError

#: Gyromagnetic ratios / (2 pi) in MHz/T.
GAMMA_MHZ_PER_T = {
    "1H": 42.577478,
    "2H": 6.536,
    "13C": 10.7084,
    "19F": 40.078,
    "31P": 17.235,
    "23Na": 11.262,
}
#: Plausible static field range (T) for in-vivo and preclinical MRS.
FIELD_RANGE_T = (0.05, 25.0)

#: Dimension tags allowed by the NIfTI-MRS standard (without the DIM_ prefix,
#: lower case), plus the spatial axes.
DIM_TAGS = ("x", "y", "z", "coil", "dyn", "indirect_0", "indirect_1",
            "indirect_2", "phase_cycle", "edit", "meas", "user_0", "user_1",
            "user_2", "isis")


def field_strength_t(f0_mhz: float, nucleus: str = "1H") -> float:
    """Static field (T) implied by a spectrometer frequency for a nucleus."""
    return f0_mhz / GAMMA_MHZ_PER_T[nucleus]


def check_metadata(*, dwelltime_s: float, spectrometer_frequency_mhz: float,
                   nucleus: str, te_ms: float | None, tr_ms: float | None) -> None:
    """Raise :class:`MetadataError` when a value is impossible or in the wrong unit."""
    if nucleus not in GAMMA_MHZ_PER_T:
        raise MetadataError(f"unknown nucleus {nucleus!r}; known: {', '.join(GAMMA_MHZ_PER_T)}")
    dt = dwelltime_s
    if not np.isfinite(dt) or dt <= 0:
        raise MetadataError(f"dwell time must be positive, got {dt!r} s")
    if dt > 0.01:
        raise MetadataError(
            f"dwell time {dt:g} s (bandwidth {1 / dt:g} Hz) is implausible; "
            f"was it given in ms or us? pass seconds")
    if dt < 1e-7:
        raise MetadataError(f"dwell time {dt:g} s (bandwidth {1 / dt:g} Hz) is implausible; pass seconds")
    f0 = spectrometer_frequency_mhz
    if not np.isfinite(f0) or f0 <= 0:
        raise MetadataError(f"spectrometer frequency must be positive, got {f0!r} MHz")
    b0 = field_strength_t(f0, nucleus)
    if not FIELD_RANGE_T[0] <= b0 <= FIELD_RANGE_T[1]:
        hint = ""
        if 1e5 < f0:
            hint = "; it looks like Hz, pass MHz"
        elif f0 < 1:
            hint = "; it looks like GHz or T, pass MHz"
        raise MetadataError(
            f"spectrometer frequency {f0:g} MHz implies {b0:.3g} T for {nucleus}, "
            f"outside {FIELD_RANGE_T[0]}-{FIELD_RANGE_T[1]} T{hint}")
    if te_ms is not None:
        if not np.isfinite(te_ms) or te_ms < 0:
            raise MetadataError(f"TE must be >= 0 ms, got {te_ms!r}")
        if 0 < te_ms < 1.0:
            raise MetadataError(f"TE {te_ms:g} ms is implausible; it looks like seconds, pass ms")
        if te_ms > 1000:
            raise MetadataError(f"TE {te_ms:g} ms is implausible; it looks like microseconds, pass ms")
    if tr_ms is not None:
        if not np.isfinite(tr_ms) or tr_ms < 0:
            raise MetadataError(f"TR must be >= 0 ms, got {tr_ms!r}")
        if 0 < tr_ms < 20.0:
            raise MetadataError(f"TR {tr_ms:g} ms is implausible; it looks like seconds, pass ms")
        if tr_ms > 100_000:
            raise MetadataError(f"TR {tr_ms:g} ms is implausible; it looks like microseconds, pass ms")


@dataclass(frozen=True, eq=False)
class Spectra:
    """Complex FIDs with their acquisition metadata.

    Parameters
    ----------
    data : (..., n_points) complex ndarray
        Time-domain FIDs, NIfTI-MRS sign convention.
    dims : tuple of str
        Names of the leading axes (NIfTI-MRS tags: ``coil``, ``dyn``, ``edit``,
        ``x``, ``y``, ``z``...); ``len(dims) == data.ndim - 1``.
    dwelltime_s, spectrometer_frequency_mhz : float
    nucleus : str
    te_ms, tr_ms : float or None
        Echo and repetition time in milliseconds (None when unknown).
    meta : dict
        The NIfTI-MRS header extension (JSON-able), for provenance.
    centre_ppm : float
        Chemical shift of the receiver centre (4.65 ppm for 1H unless told).
    affine : (4, 4) ndarray or None
        Voxel-to-world transform of the spatial axes.
    """

    data: np.ndarray
    dims: tuple[str, ...] = ()
    dwelltime_s: float = 2.5e-4
    spectrometer_frequency_mhz: float = 123.2
    nucleus: str = "1H"
    te_ms: float | None = None
    tr_ms: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    centre_ppm: float = axes.WATER_PPM
    affine: np.ndarray | None = None

    def __post_init__(self):
        data = np.asarray(self.data)
        if not np.iscomplexobj(data):
            data = data.astype(np.complex128)
        if data.ndim == 0 or data.shape[-1] == 0 or data.size == 0:
            raise MetadataError("spectrum has no data points")
        if data.shape[-1] < 16:
            raise MetadataError(f"spectrum has only {data.shape[-1]} points")
        if not np.all(np.isfinite(data)):
            bad = int(np.count_nonzero(~np.isfinite(data)))
            raise MetadataError(f"data contain {bad} NaN or infinite values")
        dims = tuple(self.dims)
        if len(dims) != data.ndim - 1:
            raise MetadataError(
                f"dims {dims} do not match data shape {data.shape} (expected {data.ndim - 1} names)")
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "dims", dims)
        for name in ("dwelltime_s", "spectrometer_frequency_mhz", "centre_ppm"):
            object.__setattr__(self, name, float(getattr(self, name)))
        for name in ("te_ms", "tr_ms"):
            v = getattr(self, name)
            object.__setattr__(self, name, None if v is None else float(v))
        check_metadata(dwelltime_s=self.dwelltime_s,
                       spectrometer_frequency_mhz=self.spectrometer_frequency_mhz,
                       nucleus=self.nucleus, te_ms=self.te_ms, tr_ms=self.tr_ms)

    # -- shape -------------------------------------------------------------
    @property
    def n_points(self) -> int:
        return self.data.shape[-1]

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the leading (non-spectral) axes."""
        return self.data.shape[:-1]

    @property
    def bandwidth_hz(self) -> float:
        return 1.0 / self.dwelltime_s

    @property
    def field_t(self) -> float:
        return field_strength_t(self.spectrometer_frequency_mhz, self.nucleus)

    # -- axes --------------------------------------------------------------
    @property
    def time(self) -> np.ndarray:
        return axes.time_axis(self.n_points, self.dwelltime_s)

    @property
    def hz(self) -> np.ndarray:
        return axes.hz_axis(self.n_points, self.dwelltime_s)

    @property
    def ppm(self) -> np.ndarray:
        return axes.ppm_axis(self.n_points, self.dwelltime_s,
                             self.spectrometer_frequency_mhz, self.centre_ppm)

    def spectrum(self) -> np.ndarray:
        """``fftshift(fft(fid))`` along the last axis (high ppm first)."""
        return axes.to_spectrum(self.data)

    # -- functional updates -------------------------------------------------
    def replace(self, **changes) -> "Spectra":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def with_data(self, data: np.ndarray, dims: tuple[str, ...] | None = None) -> "Spectra":
        return self.replace(data=data, dims=self.dims if dims is None else tuple(dims))

    def flat(self) -> np.ndarray:
        """Data reshaped to ``(N, n_points)``."""
        return self.data.reshape(-1, self.n_points)

    def mean(self, dim: str) -> "Spectra":
        """Average over one named axis."""
        i = self.dims.index(dim)
        return self.replace(data=self.data.mean(axis=i),
                            dims=self.dims[:i] + self.dims[i + 1:])

    def isel(self, **indexers: int) -> "Spectra":
        """Select one index along named axes (the axis is dropped)."""
        data, dims = self.data, list(self.dims)
        for name, idx in indexers.items():
            i = dims.index(name)
            data = np.take(data, idx, axis=i)
            dims.pop(i)
        return self.replace(data=data, dims=tuple(dims))

    # -- labelled view -----------------------------------------------------
    def to_xarray(self):
        """``xarray.DataArray`` with a ``time`` coordinate and ``ppm`` on the
        spectral axis (``ppm`` refers to ``fftshift(fft(data))``)."""
        import xarray as xr  # lazy: heavy

        coords = {"time": self.time, "ppm": ("time", self.ppm)}
        attrs = {
            "dwelltime_s": self.dwelltime_s,
            "spectrometer_frequency_mhz": self.spectrometer_frequency_mhz,
            "nucleus": self.nucleus,
            "centre_ppm": self.centre_ppm,
        }
        if self.te_ms is not None:
            attrs["te_ms"] = self.te_ms
        if self.tr_ms is not None:
            attrs["tr_ms"] = self.tr_ms
        return xr.DataArray(self.data, dims=self.dims + ("time",), coords=coords,
                            attrs=attrs, name="fid")

    @classmethod
    def from_xarray(cls, da, **kwargs) -> "Spectra":
        a = dict(da.attrs)
        dims = tuple(d for d in da.dims if d != "time")
        da = da.transpose(*dims, "time")
        return cls(data=np.asarray(da.values), dims=dims,
                   dwelltime_s=a["dwelltime_s"],
                   spectrometer_frequency_mhz=a["spectrometer_frequency_mhz"],
                   nucleus=a.get("nucleus", "1H"), te_ms=a.get("te_ms"),
                   tr_ms=a.get("tr_ms"), centre_ppm=a.get("centre_ppm", axes.WATER_PPM),
                   **kwargs)

    def __repr__(self) -> str:
        shape = ", ".join(f"{d}: {n}" for d, n in zip(self.dims, self.shape))
        return (f"Spectra({shape}{', ' if shape else ''}points: {self.n_points}, "
                f"{self.spectrometer_frequency_mhz:.4f} MHz {self.nucleus}, "
                f"dwell {self.dwelltime_s * 1e6:.1f} us, TE {self.te_ms} ms, TR {self.tr_ms} ms)")
