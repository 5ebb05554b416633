"""Quantification: ratios, combined metabolites, water scaling with tissue and relaxation."""
from .config import DEFAULTS, load_quant_config  # noqa: F401
from .water import fit_water, water_concentration_mm, water_scaled  # noqa: F401
