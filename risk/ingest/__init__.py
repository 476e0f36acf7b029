"""Ingest of agency extracts (CSV, xlsx, Parquet, SQL) into validated record tables.

``ingest(mapping, out)`` reads the extracts a mapping file names, converts them into the four
record tables, rejects the rows it cannot take (with file, line and reason), reports the data
quality (rows per source × district × month and the feed gaps) and writes the records folder
atomically. See ``docs/ingest.md``.
"""

from risk.ingest._ingest import IngestResult, RejectRateError, ingest
from risk.ingest._mapping import Extract, IngestMapping, MappingError, load_mapping
from risk.ingest._quality import GAP_RULE, feed_gaps

__all__ = [
    "GAP_RULE",
    "Extract",
    "IngestMapping",
    "IngestResult",
    "MappingError",
    "RejectRateError",
    "feed_gaps",
    "ingest",
    "load_mapping",
]
