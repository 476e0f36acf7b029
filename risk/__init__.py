"""Family early-risk screening: advisory scores that order a human review queue.

``Screener`` loads a calibrated model and screens a population as of a date; the ``Screening``
it returns holds the scores, tiers and flags, and explains, diagnoses and matches any family.
A score never decides anything: every flag goes to a specialist through ``risk.review``.
"""

from features import InputError, RiskError, UnavailableError
from risk._flags import CapacityError, assign_tiers, flag_mask
from risk._model import Calibration, Capacity, ModelError, RiskModel
from risk._screening import Explanation, Screener, Screening, ScreeningError, UnknownFamily
from risk._services import CatalogError, ServiceCatalog, load_catalog

__all__ = [
    "Calibration",
    "Capacity",
    "CatalogError",
    "Explanation",
    "InputError",
    "ModelError",
    "RiskError",
    "RiskModel",
    "Screener",
    "Screening",
    "ScreeningError",
    "ServiceCatalog",
    "UnavailableError",
    "UnknownFamily",
    "load_catalog",
    "CapacityError",
    "assign_tiers",
    "flag_mask",
]
