"""Records, their schema and validation, and the signals built from them."""

from features._build import build_features, build_snapshots, screening_population
from features._docs import render_features_markdown, render_records_markdown
from features._encode import FeatureError
from features._errors import InputError, RiskError, UnavailableError
from features._records import Records, RecordsError, load_records, write_table
from features._registry import (
    DEFAULT_LOOKBACK_DAYS,
    DOMAIN_NAMES,
    DOMAINS,
    FEATURES,
    FeatureSpec,
    context_features,
    feature_specs,
    risk_features,
)
from features._schema import (
    EVENT_TYPES,
    OUTCOME_TYPES,
    SOURCE_NAMES,
    SOURCES,
    TABLES,
    EventType,
    Table,
)
from features._vocabulary import Vocabulary, VocabularyError, load_vocabulary

__all__ = [
    "DEFAULT_LOOKBACK_DAYS",
    "DOMAINS",
    "DOMAIN_NAMES",
    "EVENT_TYPES",
    "FEATURES",
    "OUTCOME_TYPES",
    "SOURCES",
    "SOURCE_NAMES",
    "TABLES",
    "Table",
    "EventType",
    "FeatureError",
    "FeatureSpec",
    "InputError",
    "Records",
    "RecordsError",
    "RiskError",
    "UnavailableError",
    "build_features",
    "build_snapshots",
    "context_features",
    "load_records",
    "render_features_markdown",
    "render_records_markdown",
    "risk_features",
    "screening_population",
    "write_table",
    "Vocabulary",
    "VocabularyError",
    "feature_specs",
    "load_vocabulary",
]
