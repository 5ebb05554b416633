"""Linear-combination fitting: FitModel (data independent) -> FitResult."""
from .model import FitModel, FitOptions  # noqa: F401
from .result import FitResult  # noqa: F401
from .store import open_fit, save_fit  # noqa: F401
