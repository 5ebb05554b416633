"""Basis spectra: the Basis object, simulation, spin systems, import/export."""
from .basis import Basis  # noqa: F401
from .io import load_basis, save_basis  # noqa: F401,E402  one static table of basis formats
from .names import COMBINED, canonical_name  # noqa: F401
from .simulate import simulate_basis  # noqa: F401,E402
