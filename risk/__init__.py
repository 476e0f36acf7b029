"""Family early-risk screening: advisory scores that order a human review queue.

``Screener`` loads a calibrated model and screens a population as of a date; the ``Screening``
it returns holds the scores, tiers and flags, and explains, diagnoses and matches any family.
A score never decides anything: every flag goes to a specialist through ``risk.review``.
"""

from features import InputError, RiskError, UnavailableError
from risk._errors import ScreeningError, UnknownFamily
from risk._explanation import Explanation
from risk._flags import CapacityError, assign_tiers, flag_mask
from risk._model import Calibration, Capacity, ModelError, RiskModel
from risk._payload import (
    FlagPayload,
    PayloadComposition,
    PayloadContribution,
    PayloadError,
    PayloadEvent,
    PayloadService,
    example_payload,
    validate_payload,
)
from risk._render import (
    format_log_odds,
    format_points,
    format_value,
    percentage_points,
    render_contribution,
)
from risk._screener import Screener
from risk._screening import Screening
from risk._services import CatalogError, ServiceCatalog, load_catalog
from risk._vocabulary import (
    VocabularyMismatch,
    model_vocabulary,
    region_vocabulary,
    vocabulary_metadata,
)

__all__ = [
    "Calibration",
    "Capacity",
    "CapacityError",
    "CatalogError",
    "Explanation",
    "FlagPayload",
    "InputError",
    "ModelError",
    "PayloadComposition",
    "PayloadContribution",
    "PayloadError",
    "PayloadEvent",
    "PayloadService",
    "RiskError",
    "RiskModel",
    "Screener",
    "Screening",
    "ScreeningError",
    "ServiceCatalog",
    "UnavailableError",
    "UnknownFamily",
    "assign_tiers",
    "example_payload",
    "flag_mask",
    "format_log_odds",
    "format_points",
    "format_value",
    "load_catalog",
    "percentage_points",
    "render_contribution",
    "validate_payload",
    "VocabularyMismatch",
    "model_vocabulary",
    "region_vocabulary",
    "vocabulary_metadata",
]
