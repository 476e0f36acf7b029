"""The Spark engine: the same feature builders and the registered model, on a cluster.

Imported only by ``--engine spark`` (needs the ``spark`` extra). Records are read from Parquet,
cut into partitions of whole families and handed to ``features.build_features`` one partition
at a time; the MLflow model scores as a Spark UDF; flags are ranked per district on Spark and
only the flagged families come back to the driver for explanations and the review queue.
"""

from risk.spark._features import feature_schema, spark_features
from risk.spark._records import SparkRecords, as_uri, check_unique_ids, read_records, reraising
from risk.spark._score import SparkRun, SparkScreening, assign_tiers_spark, spark_screen, write_run
from risk.spark._session import SparkUnavailable, default_partitions, spark_session

__all__ = [
    "SparkRecords",
    "SparkRun",
    "SparkScreening",
    "SparkUnavailable",
    "as_uri",
    "assign_tiers_spark",
    "check_unique_ids",
    "default_partitions",
    "feature_schema",
    "read_records",
    "reraising",
    "spark_features",
    "spark_screen",
    "spark_session",
    "write_run",
]
