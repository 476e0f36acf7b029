"""What ``risk features --engine spark`` and ``risk score --engine spark`` do besides the engine."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from features import context_features
from risk.spark._features import spark_features
from risk.spark._records import SparkRecords, as_uri, check_unique_ids, is_local, read_records
from risk.spark._records import reraising as _reraising
from risk.spark._session import default_partitions, spark_session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def open_records(data: str | Path) -> tuple[SparkSession, SparkRecords]:
    """Start (or join) Spark, read the records and check the rules that span families."""
    spark = spark_session()
    spark.sparkContext.setLogLevel("ERROR")
    records = read_records(spark, data, partitions=default_partitions(spark))
    check_unique_ids(records)
    return spark, records


def input_fingerprint(
    spark: SparkSession, records: SparkRecords, local: Callable[[Path], str]
) -> str:
    """Identify the input data: the tables' bytes when local, else the list of input files."""
    if is_local(records.uri):
        return local(Path(records.uri.removeprefix("file://")))
    files: list[str] = []
    for table in ("families", "members", "events", "outcomes"):
        files += sorted(spark.read.parquet(f"{records.uri}/{table}.parquet").inputFiles())
    return hashlib.sha256("\n".join(files).encode()).hexdigest()


def spark_run_paths(out: str | Path) -> str:
    """Return the scores' output URL (``.parquet`` added when there is no suffix)."""
    uri = as_uri(out)
    return uri if Path(uri).suffix else f"{uri}.parquet"


def features_on_spark(
    data: str | Path, as_of: str, *, out: str | Path | None, lookback_days: int
) -> list[str]:
    """Build the features on Spark (and write them); return the lines the command prints."""
    from pyspark.sql import functions as F

    started = time.perf_counter()
    spark, records = open_records(data)
    opened = time.perf_counter()
    frame = spark_features(records, as_of, lookback_days=lookback_days).drop("district")
    lines = []
    if out is not None:
        target = as_uri(out)
        _reraising(lambda: frame.write.mode("overwrite").parquet(target))
        n = spark.read.parquet(target).count()
        lines.append(f"wrote {target}")
    else:
        n = _reraising(frame.count)
    built = time.perf_counter()
    n_families = records.rows.filter(F.col("kind") == 0).count()
    n_features = len(frame.columns) - 1
    n_context = len(context_features())
    lines.insert(
        0,
        f"as of {as_of}: {n:,} of {n_families:,} families in the screening population, "
        f"{n_features} features ({n_features - n_context} risk, {n_context} context) on Spark "
        f"({records.partitions} partitions); started and checked in {opened - started:.1f} s, "
        f"built in {built - opened:.1f} s",
    )
    return lines
