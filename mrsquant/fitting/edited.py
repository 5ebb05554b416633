"""Simultaneous fit of edited sum and difference spectra (HERMES, HERCULES).

:class:`EditedFitModel` fits the Hadamard combinations of a four-condition acquisition
(``sum``, ``diff_gaba``, ``diff_gsh``) as one concatenated spectrum: each basis member is the
concatenation of that metabolite's simulated combination spectra, so a metabolite has one
amplitude, seen through all combinations at once, and the nonlinear parameters (zero- and
first-order phase, group shifts, Lorentzian and Gaussian widths) are shared by the
combinations. Each combination has its own baseline spline. The numerical core is the
ordinary one (``Design.n_sub``: one FFT per block); see docs/editing.md.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..basis.basis import Basis
from ..basis.edited import EditedBasis
from ..errors import InputError
from ..preproc.editing import edit_combinations
from ..spectra import Spectra
from .model import FitModel, _single_threaded_blas, assemble_result, available_cores
from .result import FitResult


class EditedFitModel(FitModel):
    """Linear-combination model of edited sum + difference spectra with shared parameters.

    Parameters
    ----------
    basis : EditedBasis
        One basis per combination (e.g. from
        :func:`mrsquant.basis.simulate.simulate_edited_basis`).
    **options
        As :class:`~mrsquant.fitting.model.FitModel` (``ppm_range``, ``baseline``, ...);
        ``ppm_range`` applies to every combination.

    ``fit(spectra)`` takes spectra with an ``edit`` dimension of the sub-experiments
    (A, B, C, D), combined here with the basis' weights. The result's ``ppm`` and data/fit
    arrays are the combinations' windows concatenated in basis order
    (:meth:`sub_spectra` splits them).
    """

    def __init__(self, basis: EditedBasis, **options):
        if not isinstance(basis, EditedBasis):
            raise InputError("EditedFitModel needs an EditedBasis (HERMES/HERCULES combinations)")
        self.edited = basis
        stacked = basis.stacked()                                  # (M, S, P)
        first = next(iter(basis.bases.values()))
        # the parent sorts, groups and drops empty members on the concatenated FIDs
        combined = first.replace(fids=stacked.reshape(stacked.shape[0], -1), sequence=basis.sequence)
        self._n_sub = stacked.shape[1]
        self._block_points = first.n_points
        super().__init__(combined, **options)

    @property
    def combinations(self) -> tuple:
        return self.edited.combinations

    @property
    def n_conditions(self) -> int:
        return self.edited.n_conditions

    def _build_design(self, n_points, dwelltime_s, f0_mhz, centre_ppm):
        s, p0 = self._n_sub, self._block_points
        blocks = self.basis.fids.reshape(len(self.basis.names), s, p0)
        full = self.basis
        per_block = [full.replace(fids=blocks[:, k]).resample(dwelltime_s, n_points) for k in range(s)]
        # one block's design (window, baseline, bounds); its basis is any non-cancelling mix
        mix = sum(b.fids * (0.5 ** k) for k, b in enumerate(per_block))
        self.basis = per_block[0].replace(fids=mix)
        try:
            one = super()._build_design(n_points, dwelltime_s, f0_mhz, centre_ppm)
        finally:
            self.basis = full
        basis_t = np.concatenate([b.fids for b in per_block], axis=1)
        if abs(per_block[0].centre_ppm - centre_ppm) > 1e-6:
            t = np.tile(one.t, s)
            basis_t = basis_t * np.exp(-2j * np.pi * (per_block[0].centre_ppm - centre_ppm) * f0_mhz * t)
        return replace(one, basis_t=basis_t.astype(np.complex64), t=np.tile(one.t, s), n_sub=s,
                       ppm_w=np.tile(one.ppm_w, s), spline=np.kron(np.eye(s), one.spline),
                       penalty=np.kron(np.eye(s), one.penalty))

    def combine(self, spectra: Spectra) -> dict[str, Spectra]:
        """The combinations (``sum``, differences) of spectra with an ``edit`` dimension."""
        if "edit" not in spectra.dims:
            raise InputError(f"{self.edited.sequence} data need an edit dimension of "
                             f"{self.n_conditions} sub-experiments (dims: {spectra.dims})")
        n = spectra.shape[spectra.dims.index("edit")]
        if n != self.n_conditions:
            raise InputError(f"{self.edited.sequence} basis has {self.n_conditions} sub-experiments, "
                             f"the data {n} edit conditions")
        return edit_combinations(spectra, combinations=self.edited.weights)

    def fit(self, spectra: Spectra, *, names=None, progress=None, jobs: int | None = None) -> FitResult:
        """Fit every spectrum (any leading dims besides ``edit``) in batched calls."""
        combos = self.combine(spectra)
        first = combos[self.combinations[0]]
        design, _, names, mismatch = self.prepare(first, names)
        fids = np.concatenate([combos[c].flat() for c in self.combinations], axis=1)
        with _single_threaded_blas():
            jobs = jobs if jobs is not None else self.options.jobs
            parts = self._fit_chunks(design, fids, progress, available_cores() if jobs is None else jobs)
        return assemble_result(self, design, fids, names, parts, first, mismatch)

    def sub_spectra(self, values: np.ndarray) -> dict[str, np.ndarray]:
        """Split a result array ``(..., S*W)`` into ``{combination: (..., W)}``."""
        values = np.asarray(values)
        w = values.shape[-1] // self._n_sub
        return {c: values[..., k * w:(k + 1) * w] for k, c in enumerate(self.combinations)}


def edited_model(basis, **options) -> FitModel:
    """:class:`EditedFitModel` for an EditedBasis, else the ordinary FitModel."""
    if isinstance(basis, EditedBasis):
        return EditedFitModel(basis, **options)
    if not isinstance(basis, Basis):
        raise InputError(f"not a basis: {type(basis).__name__}")
    return FitModel(basis, **options)
