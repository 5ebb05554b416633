"""The default preprocessing pipeline: steps chosen from the dimensions present."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from ..spectra import Spectra
from . import editing
from .align import ALIGN_PPM_RANGE, align_transients, shift_phase
from .average import average, find_outliers
from .coils import apply_coil_weights, combine_coils
from .ecc import eddy_current_correction
from .phase import find_reference_offset, phase_zero_order, reference_ppm
from .record import add_processing, processing_applied
from .water import remove_water


@dataclass(frozen=True, eq=False)
class PreprocessRecord:
    """What :func:`preprocess` did, as data a report can plot.

    Attributes
    ----------
    steps : list of dict
        The NIfTI-MRS ``ProcessingApplied`` entries added (also in ``after.meta``).
    transients : pandas.DataFrame
        One row per transient: ``dyn`` (and ``edit``, indexed in the output's
        order, 0 = OFF), ``freq_shift_hz``, ``phase_deg`` (offsets removed by
        alignment, including the sub-spectra alignment, relative to the template),
        ``rejected``, ``weight``, ``z_score``. Empty without a ``dyn`` axis.
    before : Spectra or None
        Plain unweighted mean over transients after coil combination and ECC,
        without alignment, rejection, weighting or water removal, but with the
        output's ppm shift and zero-order phase (so it overlays ``after`` in a plot).
    after : Spectra
        The pipeline's output (same object :func:`preprocess` returns).
    water : Spectra or None
        The water reference, combined with the data's coil weights, averaged,
        eddy-current corrected: ready for water scaling.
    edited : dict of str to Spectra
        For edited data: ``diff`` and ``sum`` (MEGA) or the given combinations.
    reference_check : dict
        :func:`~mrsquant.preproc.phase.find_reference_offset` on the input of
        the referencing step (``ok`` False means the input was mis-referenced).
    info : dict
        Each step's own estimates (coil weights, ECC phase, removed water...).
    """

    steps: list
    transients: Any
    before: Spectra | None
    after: Spectra
    water: Spectra | None = None
    edited: dict = field(default_factory=dict)
    reference_check: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)


def _collapse(ref: Spectra) -> Spectra:
    """Plain mean over every leading axis: one FID."""
    if not ref.dims:
        return ref
    return ref.replace(data=ref.data.reshape(-1, ref.n_points).mean(axis=0), dims=())


def _match_points(ref: Spectra, data: Spectra, what: str) -> Spectra:
    """A reference must be sampled as the data (same dwell time and number of points):
    anything else is refused, never silently truncated."""
    if not np.isclose(ref.dwelltime_s, data.dwelltime_s, rtol=1e-4):
        raise InputError(f"{what} dwell time {ref.dwelltime_s * 1e6:.4g} us differs from the data's "
                         f"{data.dwelltime_s * 1e6:.4g} us")
    if ref.n_points != data.n_points:
        raise InputError(f"{what} has {ref.n_points} points, the data {data.n_points}")
    return ref


def _transient_table(dims, shape, shifts, phases, rejected, weights, z):
    import pandas as pd  # lazy: heavy

    idx = np.indices(shape).reshape(len(shape), -1)
    cols = {d: idx[i] for i, d in enumerate(dims)}
    cols.update(freq_shift_hz=np.ravel(shifts), phase_deg=np.ravel(phases),
                rejected=np.ravel(rejected).astype(bool), weight=np.ravel(weights), z_score=np.ravel(z))
    order = [d for d in ("dyn", "edit") if d in cols] + [d for d in dims if d not in ("dyn", "edit")]
    df = pd.DataFrame(cols)
    return df[order + ["freq_shift_hz", "phase_deg", "rejected", "weight", "z_score"]]


def preprocess(spectra: Spectra, *, water: Spectra | None = None, ecc: Spectra | None = None,
               noise: Spectra | None = None, align: bool = True, reject: bool = True,
               weighting: str | None = "inverse_variance", ecc_correction: bool = True,
               water_removal: bool = True, phase: bool = True, reference: bool = True,
               edit_interleaved: int | None = None, edit_order: str | tuple = "auto",
               align_ppm_range=ALIGN_PPM_RANGE, edit_align: str | None = None) -> tuple[Spectra, PreprocessRecord]:
    """Run the consensus pipeline on raw data; see :mod:`mrsquant.preproc`.

    ``edit_align`` (edited data): ``"conditions"`` aligns each condition's transients to its own
    template, then the averaged sub-spectra to each other (MEGA: Cho window; HERMES/HERCULES:
    :func:`~mrsquant.preproc.editing.align_hadamard`); ``"pairs"`` gives every repetition one
    correction from its sum over conditions (:func:`~mrsquant.preproc.editing.align_pairs`).
    None: ``"pairs"`` for four conditions (HERMES/HERCULES: no sub-spectrum estimate enters
    the differences; docs/editing.md), ``"conditions"`` otherwise."""
    if edit_align not in (None, "pairs", "conditions"):
        raise InputError(f"edit_align must be 'pairs' or 'conditions', got {edit_align!r}")
    s = spectra
    start = len(processing_applied(s))
    info: dict = {}
    if s.dims and any(d in s.dims for d in ("x", "y", "z")):
        raise InputError("preprocess handles single-voxel data; MRSI grids are not supported yet")
    if edit_interleaved:
        s = editing.split_interleaved(s, n_conditions=int(edit_interleaved))
    known = {"coil", "dyn", "edit"}
    other = [d for d in s.dims if d not in known]
    if other:
        raise InputError(f"preprocess does not know what to do with dims {other} (knows coil, dyn, edit)")
    if water is not None:
        water = _match_points(water, s, "water reference")
    if ecc is not None:
        ecc = _match_points(ecc, s, "ECC reference")
    # 1. coil combination; references combined with the data's weights
    s, water, ecc = _combine_coils(s, water, ecc, noise, info)
    # 2. eddy-current correction (ECC reference, else the water reference)
    ecc_ref = ecc if ecc is not None else water
    if ecc_correction and ecc_ref is not None:
        s, info["ecc"] = eddy_current_correction(s, ecc_ref)
        if water is not None:
            water, _ = eddy_current_correction(water, ecc_ref)
    if edit_align is None:
        four = "edit" in s.dims and s.shape[s.dims.index("edit")] == len(editing.HADAMARD_DIFFERENCES["diff_gaba"])
        edit_align = "pairs" if four else "conditions"
    # 3. transients: align, reject, average
    before, table = None, None
    if "dyn" in s.dims:
        s, before, table = _transients(s, align, reject, weighting, align_ppm_range, info, edit_align)
    # 4. editing: order, sub-spectra alignment
    if "edit" in s.dims:
        s, before, table = _edit_conditions(s, edit_order, before, table, info)
    # 5. residual water
    if water_removal:
        s, winfo = remove_water(s)
        info["water_removal"] = {k: winfo[k] for k in ("n_removed", "freq_ppm", "damping_hz", "amplitude")}
        info["water_removal"]["removed"] = winfo["removed"]
    # 6. ppm reference, then 7. zero-order phase
    s, water, check = _reference_and_phase(s, water, reference, phase, info)
    if before is not None:
        # the same global shift and phase as the output, so before/after overlay in a plot
        if "reference" in info:
            before = shift_phase(before, shift_hz=info["reference"]["shift_hz"])
        if "phase" in info:
            before = shift_phase(before, phase_deg=-np.asarray(info["phase"]["phase_deg"]))
    edited = editing.edit_combinations(s) if "edit" in s.dims and s.shape[s.dims.index("edit")] == 2 else {}
    if table is not None:
        transients = _transient_table(*table)
    else:
        import pandas as pd  # lazy: heavy
        transients = pd.DataFrame(columns=["dyn", "freq_shift_hz", "phase_deg", "rejected", "weight", "z_score"])
    rec = PreprocessRecord(steps=processing_applied(s)[start:], transients=transients, before=before,
                           after=s, water=water, edited=edited, reference_check=check, info=info)
    return s, rec


def _combine_coils(s, water, ecc, noise, info):
    """Step 1: coil combination; the water/ECC references get the data's weights."""
    if "coil" in s.dims:
        ref = water if water is not None and "coil" in water.dims else \
            ecc if ecc is not None and "coil" in ecc.dims else None
        s, info["coils"] = combine_coils(s, reference=ref, noise=noise)
        w = info["coils"]["weights"]
        if water is not None and "coil" in water.dims:
            water = apply_coil_weights(water, w)
        if ecc is not None and "coil" in ecc.dims:
            ecc = apply_coil_weights(ecc, w)
    elif water is not None and "coil" in water.dims:
        raise InputError("water reference has coils but the data do not; combine it first")
    water = None if water is None else _collapse(water)
    ecc = None if ecc is None else _collapse(ecc)
    return s, water, ecc


def _transients(s, align, reject, weighting, align_ppm_range, info, edit_align="conditions"):
    """Step 3: align, reject and average the transients; the unaligned mean and the table.
    Edited data with ``edit_align="pairs"``: one correction per repetition from the sum over
    conditions (:func:`~mrsquant.preproc.editing.align_pairs`); ``"conditions"``: each condition
    aligned to its own template (its averages then need the sub-spectra alignment)."""
    before = s.mean("dyn")
    shape = s.shape
    shifts = np.zeros(shape)
    phases = np.zeros(shape)
    if align and s.shape[s.dims.index("dyn")] > 1:
        pairs = "edit" in s.dims and edit_align == "pairs"
        if pairs:
            s, ainfo = editing.align_pairs(s, ppm_range=align_ppm_range)
        else:
            s, ainfo = align_transients(s, dim="dyn", ppm_range=align_ppm_range, robust="edit" in s.dims)
        shifts, phases = ainfo["freq_shift_hz"], ainfo["phase_deg"]
        # move the unaligned mean into the template's frame (mean offset per condition)
        dax = s.dims.index("dyn")
        mean_f = shifts.mean(axis=dax)
        mean_p = np.angle(np.exp(1j * np.deg2rad(phases)).mean(axis=dax), deg=True)
        before = shift_phase(before, shift_hz=-mean_f, phase_deg=-mean_p)
        info["align"] = {k: ainfo[k] for k in ("freq_shift_hz", "phase_deg", "amplitude", "rms_residual")}
        info["align"]["pairs"] = pairs
    rejected = np.zeros(shape, bool)
    z = np.zeros(shape)
    if reject and s.shape[s.dims.index("dyn")] >= 4:
        oinfo = find_outliers(s, dim="dyn", ppm_range=align_ppm_range)
        rejected, z = oinfo["rejected"], oinfo["z_score"]
        info["outliers"] = oinfo
        s = add_processing(s, "Outlier removal", f"{int(rejected.sum())} of {rejected.size} transients "
                                                 f"rejected; rule: {oinfo['rule']}")
    dims_t = s.dims
    s, avinfo = average(s, dim="dyn", weights=weighting, exclude=rejected, ppm_range=align_ppm_range)
    return s, before, (dims_t, shape, shifts, phases, rejected, avinfo["weights"], z)


def _edit_conditions(s, edit_order, before, table, info):
    """Step 4: edit conditions in order (first = OFF), on one ppm scale, sub-spectra aligned."""
    ax = s.dims.index("edit")
    if edit_order == "auto" and s.shape[ax] == 2:
        det = editing.detect_edit_order(s)
        order = det["order"]
        info["edit_order"] = det
    elif edit_order == "auto":
        order = tuple(range(s.shape[ax]))
    else:
        order = tuple(int(i) for i in edit_order)
    if tuple(order) != tuple(range(s.shape[ax])):
        s = editing.reorder(s, order)
        if before is not None and "edit" in before.dims:
            before = editing.reorder(before, order)
        if table is not None:
            tshape = table[1]
            eax = table[0].index("edit")
            table = (table[0], tshape) + tuple(np.take(a, list(order), axis=eax) for a in table[2:])
    s = add_processing(s, "Reordering", f"edit conditions ordered {order} (first = OFF)")
    if info.get("align", {}).get("pairs"):
        # pair-aligned transients: the averaged conditions share one frame already; an ON-to-OFF
        # fit would only add noise and the edited signal's bias (docs/benchmarks.md, mega-align)
        zeros = np.zeros(s.shape[ax])
        info["subspectra"] = {"freq_shift_hz": zeros, "phase_deg": zeros, "amplitude": np.ones(s.shape[ax]),
                              "pre_shift_hz": zeros, "skipped": "conditions share the pair alignment's frame"}
        return s, before, table
    if s.shape[ax] == len(editing.HADAMARD_DIFFERENCES["diff_gaba"]):
        # HERMES/HERCULES: pairs differing in one editing band, each on the signals it shares,
        # solved jointly; one ppm offset for all conditions (no per-condition estimate)
        s, sinfo = editing.align_hadamard(s)
        sinfo["pre_shift_hz"] = np.zeros(s.shape[ax])
        info["subspectra"] = sinfo
        return s, before, _table_add(table, sinfo, np.zeros(s.shape[ax]))
    # put every condition on the ppm scale first (NAA/Cr/Cho), so the fixed
    # sub-spectra window cuts the same signals whatever each condition's drift frame
    offsets = np.array([find_reference_offset(s.isel(edit=c))["offset_ppm"] for c in range(s.shape[ax])])
    pre_hz = offsets * s.spectrometer_frequency_mhz
    s = shift_phase(s, shift_hz=np.moveaxis(np.broadcast_to(pre_hz, s.shape[:ax] + s.shape[ax + 1:] + (len(pre_hz),)), -1, ax))
    s, sinfo = editing.align_subspectra(s)
    sinfo["pre_shift_hz"] = pre_hz
    info["subspectra"] = sinfo
    return s, before, _table_add(table, sinfo, pre_hz)


def _table_add(table, sinfo, pre_hz):
    """The transient table with the sub-spectra offsets added to each condition's rows."""
    if table is None:
        return None
    dax = table[0].index("dyn")
    # offsets removed from each condition, in the transients' sense (shift removed = -applied)
    f_add = np.expand_dims(sinfo["freq_shift_hz"] - pre_hz, dax)
    p_add = np.expand_dims(sinfo["phase_deg"], dax)
    return table[:2] + (table[2] + f_add, table[3] + p_add) + table[4:]


def _reference_and_phase(s, water, reference, phase, info):
    """Steps 6-7: ppm reference, then zero-order phase in the referenced frame (so the phase
    estimate does not depend on where the peak falls between points); both estimated on the
    first condition (OFF) and applied to all. Returns the check made before referencing."""
    first = s if "edit" not in s.dims else s.isel(edit=0)
    check = find_reference_offset(first)
    if reference:
        s, rinfo = reference_ppm(s, offset_ppm=check["offset_ppm"])
        info["reference"] = rinfo
        if water is not None:
            water = shift_phase(water, shift_hz=rinfo["shift_hz"])
    if phase:
        first = s if "edit" not in s.dims else s.isel(edit=0)
        ph = phase_zero_order(first)[1]["phase_deg"]
        s, pinfo = phase_zero_order(s, phase_deg=ph)
        info["phase"] = pinfo
    return s, water, check
