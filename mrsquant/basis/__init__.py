"""Basis spectra: the Basis object, simulation, spin systems, import/export."""
from .basis import Basis  # noqa: F401
from .names import COMBINED, canonical_name  # noqa: F401
from . import io as _io  # noqa: F401,E402  loader registry (text folder, LCModel)
from . import formats as _formats  # noqa: F401,E402  mrsquant folder, FSL-MRS JSON, jMRUI
from .simulate import simulate_basis  # noqa: F401,E402
