"""Records, their schema and validation, and the signals built from them."""

from features._records import Records, RecordsError, load_records
from features._schema import EVENT_TYPES, OUTCOME_TYPES, SOURCES, TABLES, EventType

__all__ = [
    "EVENT_TYPES",
    "OUTCOME_TYPES",
    "SOURCES",
    "TABLES",
    "EventType",
    "Records",
    "RecordsError",
    "load_records",
]
