"""``FitResult``: plain arrays from the batched fit; derived values by pure functions."""
from __future__ import annotations

import json
from functools import cached_property
from types import MappingProxyType

import numpy as np

from .. import __version__
from ..basis.names import COMBINED, present_combinations
from .quality import fit_quality
from .table import FitTable


# ---------------------------------------------------------------------------
# pure functions (leading batch axis)
# ---------------------------------------------------------------------------
def crlb_abs(cov: np.ndarray) -> np.ndarray:
    """Standard deviation bound ``(N, M)`` from a covariance ``(N, M, M)``."""
    return np.sqrt(np.maximum(np.einsum("nmm->nm", cov), 0.0))


def combine(amplitude: np.ndarray, cov: np.ndarray, names, combined=COMBINED):
    """Append combined metabolites (tNAA, tCr, tCho, Glx) when all parts are present.

    Returns ``(names, amplitude (N, M'), cov (N, M', M'))`` with the
    covariance of sums taken from the full covariance.
    """
    names = list(names)
    rows = []
    new_names = []
    for name, parts in present_combinations(names, combined).items():
        w = np.zeros(len(names))
        w[[names.index(p) for p in parts]] = 1.0
        rows.append(w)
        new_names.append(name)
    t = np.vstack([np.eye(len(names))] + ([np.array(rows)] if rows else []))
    amp = amplitude @ t.T
    cov2 = np.einsum("im,nmk,jk->nij", t, cov, t)
    return names + new_names, amp, cov2


def ratio_to(amplitude: np.ndarray, names, reference: str = "tCr") -> np.ndarray:
    if reference not in names:
        return np.full(amplitude.shape, np.nan)
    ref = amplitude[:, list(names).index(reference)]
    with np.errstate(divide="ignore", invalid="ignore"):
        return amplitude / ref[:, None]


def parse_ratio(text: str) -> tuple[str, str]:
    """``"tCho/tNAA"`` -> ``("tCho", "tNAA")``."""
    parts = [p.strip() for p in str(text).split("/")]
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"ratio {text!r}: write it as NUMERATOR/DENOMINATOR, e.g. tCho/tNAA")
    return parts[0], parts[1]


def ratio_with_sd(amplitude: np.ndarray, cov: np.ndarray, names, numerator: str, denominator: str):
    """Ratio ``a/b`` per spectrum and its SD from the full covariance (first-order propagation).

    ``var(a/b) = (a/b)^2 (var_a/a^2 + var_b/b^2 - 2 cov_ab/(a b))``: the correlation of
    the two estimates (e.g. Glx and GABA sharing signal) is taken into account.
    """
    names = list(names)
    i, j = names.index(numerator), names.index(denominator)
    a, b = amplitude[:, i], amplitude[:, j]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = a / b
        rel = cov[:, i, i] / a ** 2 + cov[:, j, j] / b ** 2 - 2.0 * cov[:, i, j] / (a * b)
        sd = np.abs(r) * np.sqrt(np.maximum(rel, 0.0))
    return r, sd


def misfit_factor(data: np.ndarray, fit: np.ndarray, noise_sd: np.ndarray) -> np.ndarray:
    """Variance inflation ``max(1, residual variance / noise variance)`` per spectrum ``(N,)``.

    On real data the model misfit (lineshape, baseline, missing basis members)
    adds to the noise; LCModel and FSL-MRS take the residual into their SDs.
    Never below 1: on a well-fitting spectrum the bound is the noise-only CRLB
    (the residual variance is slightly below the noise variance there, by the
    fitted degrees of freedom). NaN inputs (an empty spectrum) give 1.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.mean(np.abs(data - fit) ** 2, axis=1) / 2.0 / noise_sd ** 2
    return np.where(np.isfinite(ratio), np.maximum(ratio, 1.0), 1.0)


def prior_influence(post_cov: np.ndarray, data_cov: np.ndarray) -> np.ndarray:
    """Fraction ``(N, M)`` of each estimate's precision that came from the prior:
    ``1 - var(with prior) / var(data and model only)``, 0 (data only) .. 1 (prior only)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = 1.0 - np.einsum("nmm->nm", post_cov) / np.einsum("nmm->nm", data_cov)
    return np.clip(np.where(np.isfinite(frac), frac, 0.0), 0.0, 1.0)


#: provenance fields of a FitResult, one entry per spectrum (lists), set with ``with_provenance``
PROVENANCE = ("inputs", "water_inputs", "headers", "affines", "preprocessing")


class FitResult:
    """Result of :meth:`FitModel.fit`: an immutable record.

    Holds the arrays of the batched fit (``arrays``: amplitude, cov_amplitude,
    theta, data, fit, baseline, components, ...) with one leading axis of N
    spectra, the status of each spectrum, the basis/data warnings and provenance;
    derived values are computed on demand by the module-level functions.
    ``to_xarray()`` gives the Dataset of docs/fit_outputs.md.

    Nothing is changed after construction: provenance and water scaling return a
    new record (:meth:`with_provenance`, :meth:`with_water`), so every cached derived
    value stays true to the arrays it came from. It is assembled in one place,
    :func:`mrsquant.fitting.model.assemble_result`, for in-process, threaded and
    dask fits alike.

    Examples
    --------
    >>> from mrsquant.fitting.synthetic import synthetic_fit
    >>> res = synthetic_fit(n=2)
    >>> res.status
    ['ok', 'ok']
    >>> res.status.append("x"); res.status          # a copy: the record does not change
    ['ok', 'ok']
    >>> res.inputs = ["a"]
    Traceback (most recent call last):
    ...
    AttributeError: FitResult is immutable: use with_provenance() or with_water()
    >>> res.with_provenance(inputs=["a.nii.gz", "b.nii.gz"]).inputs
    ['a.nii.gz', 'b.nii.gz']
    """

    def __init__(self, *, arrays, names, basis_names, ppm, spectra, model, design, shape=None,
                 status=None, warnings=(), failed_chunks=(), conc_mm=None, conc_crlb_mm=None,
                 water=None, **provenance):
        unknown = set(provenance) - set(PROVENANCE)
        if unknown:
            raise TypeError(f"unknown FitResult fields: {sorted(unknown)}")
        put = object.__setattr__
        put(self, "arrays", MappingProxyType(dict(arrays)))
        put(self, "_names", tuple(names))
        put(self, "basis_names", tuple(basis_names))
        put(self, "ppm", np.asarray(ppm))
        put(self, "spectra", spectra)
        put(self, "model", model)
        put(self, "design", design)
        put(self, "shape", shape)
        put(self, "_status", tuple(status) if status is not None else ("ok",) * len(self.names))
        put(self, "_warnings", tuple(warnings))     # basis/data mismatches that did not stop the fit
        put(self, "_failed_chunks", tuple(failed_chunks))
        put(self, "conc_mm", conc_mm)               # (N, M') from quant.water_scaled
        put(self, "conc_crlb_mm", conc_crlb_mm)
        put(self, "water", None if water is None else MappingProxyType(dict(water)))
        put(self, "_provenance", {k: tuple(provenance.get(k, ())) for k in PROVENANCE})

    def __setattr__(self, name, value):
        raise AttributeError("FitResult is immutable: use with_provenance() or with_water()")

    # -- record fields (lists are copies) --------------------------------------
    names = property(lambda self: list(self._names))
    status = property(lambda self: list(self._status), doc="``ok`` or what is wrong, per spectrum")
    warnings = property(lambda self: list(self._warnings))
    failed_chunks = property(lambda self: list(self._failed_chunks),
                             doc="``(start, stop, reason)`` of dask chunks that failed after retries")
    inputs = property(lambda self: list(self._provenance["inputs"]))
    water_inputs = property(lambda self: list(self._provenance["water_inputs"]))
    headers = property(lambda self: list(self._provenance["headers"]))
    affines = property(lambda self: list(self._provenance["affines"]),
                       doc="voxel-to-world 4x4 per spectrum (voxel size for MRSinMRS)")
    preprocessing = property(lambda self: list(self._provenance["preprocessing"]))

    def _fields(self) -> dict:
        d = self.__dict__
        return dict(arrays=d["arrays"], names=d["_names"], basis_names=d["basis_names"], ppm=d["ppm"],
                    spectra=d["spectra"], model=d["model"], design=d["design"], shape=d["shape"],
                    status=d["_status"], warnings=d["_warnings"], failed_chunks=d["_failed_chunks"],
                    conc_mm=d["conc_mm"], conc_crlb_mm=d["conc_crlb_mm"], water=d["water"],
                    **d["_provenance"])

    def with_provenance(self, **provenance) -> "FitResult":
        """A copy with provenance lists (``inputs``, ``water_inputs``, ``headers``, ``affines``,
        ``preprocessing``; one entry per spectrum) replaced."""
        for key, value in provenance.items():
            if key in PROVENANCE and len(value) not in (0, len(self._status)):
                raise ValueError(f"{key}: {len(value)} entries for {len(self._status)} spectra")
        return FitResult(**{**self._fields(), **provenance})

    def with_water(self, conc_mm, conc_crlb_mm, *, water=None, water_fwhm_hz=None,
                   water_inputs=None) -> "FitResult":
        """A copy with water-scaled concentrations ``(N, M')`` (mM) and their CRLBs, the fitted
        water reference (``{"ppm", "data", "fit"}``, for the report) and its linewidth."""
        fields = self._fields()
        arrays = dict(self.arrays)
        if water_fwhm_hz is not None:
            arrays["water_fwhm_hz"] = np.asarray(water_fwhm_hz)
        fields.update(arrays=arrays, conc_mm=conc_mm, conc_crlb_mm=conc_crlb_mm, water=water)
        if water_inputs is not None:
            fields["water_inputs"] = water_inputs
        return FitResult(**fields)

    # -- amplitudes and uncertainties ---------------------------------------
    @cached_property
    def _combined(self):
        return combine(self.arrays["amplitude"], self.arrays["cov_amplitude"], self.basis_names)

    @cached_property
    def misfit_factor(self) -> np.ndarray:
        """``(N,)`` variance inflation of the CRLBs for model misfit (:func:`misfit_factor`)."""
        a = self.arrays
        return misfit_factor(a["data"], a["fit"], a["noise_sd"])

    @property
    def covariance_noise(self) -> np.ndarray:
        """Covariance from the noise alone (the textbook Cramer-Rao bound)."""
        return self._combined[2]

    @property
    def prior_influence(self) -> np.ndarray:
        """``(N, M')`` share of each estimate's precision from the optional amplitude prior (0 without)."""
        a = self.arrays
        if "amp_post_cov" not in a:
            return np.zeros(self.amplitude.shape)
        _, _, post = combine(a["amplitude"], a["amp_post_cov"], self.basis_names)
        _, _, data = combine(a["amplitude"], a["amp_data_cov"], self.basis_names)
        return prior_influence(post, data)

    @property
    def metabolites(self) -> list[str]:
        return self._combined[0]

    @property
    def amplitude(self) -> np.ndarray:
        return self._combined[1]

    @property
    def covariance(self) -> np.ndarray:
        """Covariance with model misfit included (noise-only bound x :attr:`misfit_factor`)."""
        return self._combined[2] * self.misfit_factor[:, None, None]

    @property
    def crlb_abs(self) -> np.ndarray:
        return crlb_abs(self.covariance)

    @property
    def crlb_noise_percent(self) -> np.ndarray:
        """CRLB (%) from the noise alone, without the misfit inflation."""
        with np.errstate(divide="ignore", invalid="ignore"):
            out = 100.0 * crlb_abs(self.covariance_noise) / self.amplitude
        return np.where(self.amplitude > 0, out, np.nan)

    @property
    def crlb_percent(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = 100.0 * self.crlb_abs / self.amplitude
        return np.where(self.amplitude > 0, out, np.nan)

    def ratio(self, reference: str = "tCr") -> np.ndarray:
        return ratio_to(self.amplitude, self.metabolites, reference)

    def ratio_sd(self, numerator: str, denominator: str) -> tuple[np.ndarray, np.ndarray]:
        """Any ratio (e.g. ``"tCho", "tNAA"``) and its covariance-aware SD, per spectrum."""
        return ratio_with_sd(self.amplitude, self.covariance, self.metabolites, numerator, denominator)

    def get(self, metabolite: str, what: str = "amplitude") -> np.ndarray:
        arr = getattr(self, what) if what != "ratio" else self.ratio()
        return arr[:, self.metabolites.index(metabolite)]

    # -- model pieces --------------------------------------------------------
    @property
    def theta(self):
        return self.arrays["theta"]

    @cached_property
    def qc(self) -> dict:
        return fit_quality(self)

    # -- export --------------------------------------------------------------
    def to_xarray(self):
        """The fit Dataset of docs/fit_outputs.md (``xarray.Dataset``)."""
        return self.to_table().to_xarray()

    def to_table(self) -> FitTable:
        """The same variables as :meth:`to_xarray` as a numpy-only :class:`FitTable` (no
        xarray import: what the fit pipeline writes its outputs from)."""
        d = self.design
        sd, sl, ss = d.slices()
        theta = self.theta
        qc = self.qc
        n = len(self.names)
        conc = self.conc_mm if self.conc_mm is not None else np.full(self.amplitude.shape, np.nan)
        conc_sd = self.conc_crlb_mm if self.conc_crlb_mm is not None else np.full(self.amplitude.shape, np.nan)
        gauss_fwhm = 2.0 * np.sqrt(np.maximum(theta[:, ss.start], 0) * np.log(2)) / np.pi
        ds = FitTable(
            {
                "data": (("spectrum", "ppm"), self.arrays["data"]),
                "fit": (("spectrum", "ppm"), self.arrays["fit"]),
                "baseline": (("spectrum", "ppm"), self.arrays["baseline"]),
                "components": (("spectrum", "basis_metabolite", "ppm"), self.arrays["components"]),
                "amplitude": (("spectrum", "metabolite"), self.amplitude),
                "crlb_abs": (("spectrum", "metabolite"), self.crlb_abs),
                "crlb_percent": (("spectrum", "metabolite"), self.crlb_percent),
                "crlb_noise_percent": (("spectrum", "metabolite"), self.crlb_noise_percent),
                "prior_influence": (("spectrum", "metabolite"), self.prior_influence),
                "misfit_factor": ("spectrum", self.misfit_factor),
                "ratio_tcr": (("spectrum", "metabolite"), self.ratio("tCr")),
                "conc_mm": (("spectrum", "metabolite"), conc),
                "conc_crlb_mm": (("spectrum", "metabolite"), conc_sd),
                "snr": ("spectrum", qc["snr"]),
                "snr_lcmodel": ("spectrum", qc["snr_lcmodel"]),
                "fwhm_ppm": ("spectrum", qc["fwhm_ppm"]),
                "fwhm_hz": ("spectrum", qc["fwhm_hz"]),
                "fqn": ("spectrum", qc["fqn"]),
                "water_fwhm_hz": ("spectrum", qc.get("water_fwhm_hz", np.full(n, np.nan))),
                "phase0_deg": ("spectrum", np.rad2deg(theta[:, 0])),
                "phase1_deg_per_ppm": ("spectrum", np.rad2deg(theta[:, 1])),
                "shift_hz": ("spectrum", theta[:, sd.start]),
                "lw_lorentz_hz": ("spectrum", theta[:, sl.start]),
                "lw_gauss_hz": ("spectrum", gauss_fwhm),
                "noise_sd": ("spectrum", self.arrays["noise_sd"]),
                "status": ("spectrum", np.array(self.status, dtype=object)),
                "voigt_weight": ("spectrum", self.arrays.get("voigt_weight", np.ones(len(self.names)))),
            },
            coords={"spectrum": self.names, "metabolite": self.metabolites,
                    "basis_metabolite": list(self.basis_names), "ppm": self.ppm},
        )
        if self.water is not None:   # the fitted water reference, for the report's water panel
            ds.set_coord("water_ppm", self.water["ppm"])
            ds["water_data"] = (("spectrum", "water_ppm"), self.water["data"])
            ds["water_fit"] = (("spectrum", "water_ppm"), self.water["fit"])
        s = self.spectra
        opts = dict(self.model.options.__dict__)
        ds.attrs.update({
            "software_version": f"mrsquant {__version__}",
            "basis_source": json.dumps(self.model.basis.provenance, default=str),
            "basis_te_ms": np.nan if self.model.basis.te_ms is None else self.model.basis.te_ms,
            "basis_sequence": self.model.basis.sequence,
            "model_options": json.dumps(opts, default=str),
            "group_names": json.dumps(list(self.model.group_names)),
            "inputs": json.dumps(self.inputs),
            "water_references": json.dumps(self.water_inputs),
            "te_ms": np.nan if s.te_ms is None else s.te_ms,
            "tr_ms": np.nan if s.tr_ms is None else s.tr_ms,
            "spectrometer_frequency_mhz": s.spectrometer_frequency_mhz,
            "nucleus": s.nucleus,
            "dwelltime_s": s.dwelltime_s,
            "n_points": s.n_points,
            "ppm_min": float(min(self.model.options.ppm_range)),
            "ppm_max": float(max(self.model.options.ppm_range)),
            "header": json.dumps(self.headers, default=str),
            "affines": json.dumps(self.affines),
            "preprocessing": json.dumps(self.preprocessing, default=str),
            "basis_warnings": json.dumps(list(self.warnings)),
        })
        return ds

    def __repr__(self):
        return f"FitResult({len(self.names)} spectra, {len(self.metabolites)} metabolites)"
