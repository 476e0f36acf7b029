"""Features on Spark: ``features.build_features`` applied to whole partitions of families.

A family's features depend only on its own records, so building them partition by partition and
stacking the results gives exactly the pandas engine's frame. The record rows are hash
partitioned by ``family_id`` into ``P`` Spark partitions (one shuffle, no sort) and each
partition's Arrow batches are gathered into one pandas call (``mapInArrow``): one call per
partition (thousands of families), never one per family: a call costs milliseconds, and a
million calls cost minutes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from features import DEFAULT_LOOKBACK_DAYS, Records, Vocabulary, build_features
from risk.spark._records import SparkRecords, arrow_schema, unstack, validated

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

#: Columns the Spark feature frame has before the features (``district`` only internally).
KEY_COLUMNS: tuple[str, ...] = ("family_id", "district")


def feature_schema() -> str:
    """Return the Spark DDL schema of the features: keys, then each feature typed as by pandas.

    Examples
    --------
    >>> feature_schema().split(", ")[:3]
    ['family_id string', 'district string', 'benefit_application_n_90d bigint']
    """
    return _ddl(feature_columns())


def feature_columns(vocabulary: Vocabulary | None = None) -> list[tuple[str, str]]:
    """Return ``(name, Spark SQL type)`` of the keys, then of each feature as typed by pandas.

    ``vocabulary`` adds the features of a region's own record types.
    """
    empty = build_features(Records.empty(), "2024-01-01", vocabulary=vocabulary)
    spark_type = {"int64": "bigint", "float64": "double"}
    columns = [(k, "string") for k in KEY_COLUMNS]
    columns += [(name, spark_type[str(empty[name].dtype)]) for name in empty.columns]
    return columns


def _ddl(columns: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{name} {kind}" for name, kind in columns)


def partition_features(
    rows: pa.Table,
    *,
    extraction_date: pd.Timestamp,
    as_of: pd.Timestamp,
    exclude_events: frozenset[str],
    lookback_days: int,
    vocabulary: Vocabulary | None = None,
) -> pd.DataFrame:
    """Validate one partition's records and build its families' features (runs in a worker).

    Returns ``family_id``, ``district`` and every feature, one row per family of the partition
    in the screening population.
    """
    records = validated(unstack(rows, extraction_date), vocabulary)
    frame = build_features(
        records,
        as_of,
        exclude_events=exclude_events,
        lookback_days=lookback_days,
        vocabulary=vocabulary,
    )
    fams = records.families
    district = pd.Series(fams["district"].to_numpy(), index=fams["family_id"].to_numpy())
    keys = pd.DataFrame(
        {
            "family_id": pd.array(frame.index.to_numpy(dtype=str), dtype="str"),
            "district": pd.array(district.reindex(frame.index).to_numpy(dtype=str), dtype="str"),
        }
    )
    return pd.concat([keys, frame.reset_index(drop=True)], axis=1)


def spark_features(
    records: SparkRecords,
    as_of: object,
    *,
    exclude_events: Iterable[str] = (),
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    vocabulary: Vocabulary | None = None,
) -> DataFrame:
    """Build every registered feature on Spark, one pandas call per partition of families.

    Parameters
    ----------
    records : SparkRecords
        From :func:`read_records`.
    as_of : date-like
        The as-of date ``T``.
    exclude_events : iterable of str
        ``event_id`` of disputed records to leave out.
    lookback_days : int
    vocabulary : Vocabulary, optional
        The records' event types (a region pack's); default the built-in ones.

    Returns
    -------
    pyspark.sql.DataFrame
        Lazy: ``family_id``, ``district`` and the features (:func:`feature_schema`). Each
        action re-runs it; persist it when it feeds several.
    """
    t = pd.Timestamp(as_of).normalize()  # type: ignore[arg-type]
    excluded = frozenset(str(e) for e in exclude_events)
    extraction = records.extraction_date
    # Check as_of and lookback_days on the driver, where the error is readable.
    build_features(Records.empty(), t, lookback_days=lookback_days)

    def apply(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        # A Spark partition arrives as several Arrow batches, a family possibly split across
        # them: gather the partition's batches (no copy), then build its families in one call.
        # Arrow in, Arrow out: the record rows go to pandas per table, only the columns each
        # table needs.
        parts = list(batches)
        if not parts:
            return
        frame = partition_features(
            pa.Table.from_batches(parts),
            extraction_date=extraction,
            as_of=t,
            exclude_events=excluded,
            lookback_days=lookback_days,
            vocabulary=vocabulary,
        )
        del parts
        yield from pa.Table.from_pandas(frame, schema=schema, preserve_index=False).to_batches()

    columns = feature_columns(vocabulary)
    schema = arrow_schema(columns)
    stacked = records.rows.drop("part").repartition(records.partitions, "family_id")
    return stacked.mapInArrow(apply, schema=_ddl(columns))
