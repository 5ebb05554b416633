"""mrsquant: in-vivo proton MR spectroscopy quantification.

The public API is flat::

    import mrsquant as mq
    s = mq.load("sub-01_ses-01_svs.nii.gz")

Names are imported on first use (PEP 562), so ``import mrsquant`` and the CLI
start without loading scipy, nibabel, xarray or matplotlib.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

from .axes import hz_axis, ppm_axis, time_axis  # noqa: E402,F401
from .errors import BasisMismatchError, InputError, MetadataError, MRSQuantError  # noqa: E402,F401
from .spectra import Spectra  # noqa: E402,F401

#: public name -> module that defines it
_LAZY = {
    "load": ".io", "save": ".io",
    "preprocess": ".preproc",
    "Basis": ".basis", "simulate_basis": ".basis",
    "load_basis": ".basis.io", "save_basis": ".basis.io",
    "FitModel": ".fitting", "FitResult": ".fitting", "open_fit": ".fitting",
    "fit_files": ".app.pipeline", "fit_mrsi": ".app.mrsi", "fit_maps": ".app.mrsi",
    "run_longitudinal": ".app.longitudinal",
    "load_quant_config": ".quant", "fit_water": ".quant", "water_scaled": ".quant",
}

__all__ = ["__version__", "ppm_axis", "hz_axis", "time_axis", "MRSQuantError", "InputError",
           "MetadataError", "BasisMismatchError", "Spectra", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mrsquant' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
