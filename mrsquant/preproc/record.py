"""The NIfTI-MRS ``ProcessingApplied`` provenance list, kept in ``Spectra.meta``.

Each entry follows the standard (definitions.json, ``ProcessingApplied``):
``{"Time", "Program", "Version", "Method", "Details"}``. ``Method`` uses the
standard's vocabulary where one exists ("RF coil combination", "Frequency and
phase correction", "Signal averaging", "Eddy current correction",
"Nuisance peak removal", "Phasing", "Frequency shift", ...).
"""
from __future__ import annotations

import copy
from datetime import datetime, timezone

from .. import __version__
from ..spectra import Spectra

PROGRAM = "mrsquant"


def processing_entry(method: str, details: str) -> dict:
    """One ``ProcessingApplied`` entry stamped with the time and mrsquant version."""

    return {"Time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
            "Program": PROGRAM, "Version": __version__, "Method": method, "Details": details}


def add_processing(spectra: Spectra, method: str, details: str) -> Spectra:
    """A copy of ``spectra`` whose ``meta['ProcessingApplied']`` has one more entry.

    The input's ``meta`` is never modified.
    """
    meta = copy.deepcopy(spectra.meta)
    steps = list(meta.get("ProcessingApplied", []))
    steps.append(processing_entry(method, details))
    meta["ProcessingApplied"] = steps
    return spectra.replace(meta=meta)


def processing_applied(spectra: Spectra) -> list[dict]:
    """The provenance list of ``spectra`` (empty when none was recorded)."""
    return list(spectra.meta.get("ProcessingApplied", []))
