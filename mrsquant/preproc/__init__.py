"""Preprocessing: pure ``Spectra -> (Spectra, info)`` steps and the default pipeline.

Every step returns a new :class:`~mrsquant.Spectra` (never in place), works on
all transients at once, and appends an entry to the NIfTI-MRS
``ProcessingApplied`` list in ``meta``.

The pipeline
------------
::

    from mrsquant.preproc import preprocess
    out, record = preprocess(spectra, water=None, ecc=None)

``spectra``: raw data with any of the axes ``coil``, ``dyn``, ``edit``.
``water`` / ``ecc``: optional references (raw, with or without ``coil``/``dyn``).
Steps, chosen from the axes present:

1. ``coil``: noise-optimal SVD coil combination (sensitivities from the water
   reference if given), pre-whitened with the FID-tail noise covariance (or
   ``noise=``); the references get the same weights.
2. eddy-current correction (Klose) with ``ecc``, else ``water``, if given.
3. ``dyn``: spectral registration of the transients (robust variant for edited
   data), outlier rejection (robust z > 3), inverse-variance weighted average.
4. ``edit``: ON/OFF detection (reordered to OFF, ON), sub-spectra alignment
   (MEGA: Cho window; four conditions, HERMES/HERCULES A-D: ``align_hadamard``, pairs
   differing in one editing band on the signals they share; skipped after
   ``edit_align="pairs"``, the default for four conditions: one correction per
   repetition); ``record.edited`` holds ``diff`` (ON - OFF) and ``sum``.
5. residual water removal (HLSVD, 4.2-5.2 ppm).
6. ppm referencing to NAA/Cr/Cho (``record.reference_check`` flags a
   mis-referenced input), 7. zero-order phase (tallest peak in 1.8-3.4 ppm).

Returns ``(out, record)``: ``out`` has no ``coil``/``dyn`` axis (an ``edit`` axis
of OFF, ON remains for edited data); ``record`` is a :class:`PreprocessRecord`
with the per-transient table (``dyn, freq_shift_hz, phase_deg, rejected``...),
before/after spectra, the processed water reference and each step's estimates.
Keyword switches (all default on): ``align``, ``reject``, ``ecc_correction``,
``water_removal``, ``phase``, ``reference``; ``weighting=None`` for equal
weights; ``edit_interleaved=2`` when ON/OFF alternate along ``dyn``.
Bad input raises :class:`~mrsquant.errors.InputError` with a one-line reason.
"""
from .align import align_transients, register, shift_phase  # noqa: F401
from .average import average, drop, find_outliers, transient_weights  # noqa: F401
from .coils import apply_coil_weights, combine_coils  # noqa: F401
from .ecc import eddy_current_correction  # noqa: F401
from .editing import (  # noqa: F401
    align_hadamard,
    align_subspectra,
    detect_edit_order,
    edit_combinations,
    reorder,
    split_interleaved,
)
from .phase import check_reference, find_reference_offset, phase_zero_order, reference_ppm, zero_order_phase  # noqa: F401
from .pipeline import PreprocessRecord, preprocess  # noqa: F401
from .record import add_processing, processing_applied  # noqa: F401
from .timedomain import apodise, truncate, zero_fill  # noqa: F401
from .water import hlsvd, remove_water  # noqa: F401

__all__ = [
    "preprocess", "PreprocessRecord", "combine_coils", "apply_coil_weights", "align_transients",
    "register", "shift_phase", "find_outliers", "average", "transient_weights", "drop",
    "eddy_current_correction", "remove_water", "hlsvd", "phase_zero_order", "zero_order_phase",
    "find_reference_offset", "check_reference", "reference_ppm", "truncate", "zero_fill", "apodise",
    "split_interleaved", "detect_edit_order", "reorder", "align_subspectra", "align_hadamard",
    "edit_combinations",
    "add_processing", "processing_applied",
]
