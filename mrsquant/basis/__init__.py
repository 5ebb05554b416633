"""Basis spectra: the Basis object, simulation, spin systems, import/export."""
from .basis import Basis  # noqa: F401
from .names import COMBINED, canonical_name  # noqa: F401
