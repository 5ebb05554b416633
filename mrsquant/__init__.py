"""mrsquant: in-vivo proton MR spectroscopy quantification.

The public API is flat::

    import mrsquant as mq
    s = mq.load("sub-01_ses-01_svs.nii.gz")
"""
from __future__ import annotations

__version__ = "0.1.0"

from .axes import ppm_axis, hz_axis, time_axis  # noqa: E402,F401
from .errors import MRSQuantError, InputError, MetadataError, BasisMismatchError  # noqa: E402,F401
from .spectra import Spectra  # noqa: E402,F401
from .io import load, save  # noqa: E402,F401
from .preproc import preprocess  # noqa: E402,F401
from .basis import Basis, simulate_basis  # noqa: E402,F401
from .basis.io import load_basis, save_basis  # noqa: E402,F401
from .fitting import FitModel, FitResult, open_fit  # noqa: E402,F401
from .fitting.pipeline import fit_files  # noqa: E402,F401
from .quant import load_quant_config, fit_water, water_scaled  # noqa: E402,F401
