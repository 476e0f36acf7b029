"""Starting Spark for the ``risk`` commands: local by default, the cluster's under spark-submit."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from features import UnavailableError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Rows per Arrow batch between the JVM and Python workers.
ARROW_BATCH_ROWS = 100_000

#: Master used when the command is not run by spark-submit and none is given.
DEFAULT_MASTER = "local[*]"


class SparkUnavailable(UnavailableError, ImportError):
    """pyspark is not installed (``pip install 'family-risk[spark]'``)."""


def spark_session(
    master: str | None = None,
    *,
    shuffle_partitions: int | None = None,
    app_name: str = "family-risk",
) -> SparkSession:
    """Return the active SparkSession, or start one.

    Parameters
    ----------
    master : str, optional
        E.g. ``"local[2]"``. Default: the master spark-submit gave; outside spark-submit,
        ``RISK_SPARK_MASTER`` or ``local[*]``.
    shuffle_partitions : int, optional
        ``spark.sql.shuffle.partitions`` (default: Spark's, 200).
    app_name : str

    Raises
    ------
    SparkUnavailable
        pyspark is not installed.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkUnavailable(
            "the spark engine needs pyspark: pip install 'family-risk[spark]'"
        ) from exc

    # Workers must run this interpreter (it has pandas, pyarrow and this package); binding to
    # the loopback interface avoids resolving the host name on laptops and CI runners.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ
    if master is None and not under_submit:
        master = os.environ.get("RISK_SPARK_MASTER", DEFAULT_MASTER)
    if master is not None:
        if master.startswith("local"):
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = builder.master(master)
    builder = builder.config("spark.sql.execution.arrow.pyspark.enabled", "true")
    builder = builder.config("spark.sql.session.timeZone", "UTC")
    # Fewer, larger Arrow batches: a partition's records reach its pandas call in a few batches
    # and the MLflow UDF enforces its schema per batch (Spark's default is 10,000 rows).
    builder = builder.config("spark.sql.execution.arrow.maxRecordsPerBatch", str(ARROW_BATCH_ROWS))
    if shuffle_partitions is not None:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    return builder.getOrCreate()


def default_partitions(spark: SparkSession) -> int:
    """Partition keys for grouped calls: four per core, so calls even out across cores."""
    return max(1, 4 * int(spark.sparkContext.defaultParallelism))
