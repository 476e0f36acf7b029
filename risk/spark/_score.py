"""Scoring on Spark: the registered MLflow model as a Spark UDF, flags by window ranking.

Scores are computed on Spark; ranks, capacities, flags and tiers by the pandas screener's own
function (``risk/_flags.py``: within a district, rank by score, highest first, equal scores by
``family_id``; flagged when the rank is within the district's capacity and the score reaches
the minimum score), applied to each district on Spark. Only the flagged families come back to
the driver, where the pandas :class:`risk.Screening` machinery explains them and builds the
review queue's payloads.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from features import build_features
from risk._errors import ScreeningError
from risk._flags import TIERS, CapacityLike, assign_tiers, resolve_capacity
from risk._loading import _MODELS_URI
from risk._model import Capacity, RiskModel
from risk._pyfunc import save_risk_model
from risk._screener import Screener
from risk._screening import SCORE_COLUMNS, SUMMARY_COLUMNS, Screening
from risk._vocabulary import model_vocabulary
from risk.spark._features import spark_features
from risk.spark._records import SparkRecords, reraising, unstack

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

#: Largest difference tolerated between the UDF's scores and the driver's for flagged families.
SCORE_TOLERANCE = 1e-9


class SparkScreening(Screening):
    """A :class:`risk.Screening` of the flagged families of a Spark run, with population figures.

    Its ``scores`` hold the flagged families only (with their population ranks); ``summary()``
    and ``base_rate`` are those of the whole screened population, computed on Spark. Everything
    else (explanations, needs, services, payloads, ``ReviewQueue.enqueue``) works as for a
    pandas screening.
    """

    def __init__(
        self, *, population_summary: pd.DataFrame, population_base_rate: float, **kwargs: Any
    ) -> None:
        self._population_summary = population_summary
        self._population_base_rate = population_base_rate
        super().__init__(**kwargs)

    @property
    def base_rate(self) -> float:
        """Mean score of the whole screened population."""
        return self._population_base_rate

    @property
    def n_screened(self) -> int:
        """Families screened on Spark (the scores frame here holds only the flagged)."""
        return int(self._population_summary["families"].sum())

    def summary(self) -> pd.DataFrame:
        """Per district, over the whole population: families, flagged, capacity, tier counts."""
        return self._population_summary.copy()


@dataclass(frozen=True)
class SparkRun:
    """The result of :func:`spark_screen`.

    Attributes
    ----------
    scores : pyspark.sql.DataFrame
        Every screened family with :data:`risk._screening.SCORE_COLUMNS` (persisted).
    screening : SparkScreening
        The flagged families, explained, ready for ``ReviewQueue.enqueue``.
    """

    scores: DataFrame
    screening: SparkScreening


def assign_tiers_spark(scored: DataFrame, capacity: Capacity) -> DataFrame:
    """Add ``rank_in_district``, ``capacity``, ``flagged`` and ``tier`` by the screener's rule.

    ``scored`` needs ``family_id``, ``district`` and ``score``. Each district is handed whole to
    :func:`risk.assign_tiers` (the pandas screener's own function), so Spark flags exactly the
    families the pandas engine would; a window ranking would hold a whole district in one task
    too, so this costs no more memory.
    """
    from pyspark.sql.types import BooleanType, LongType, StringType, StructField, StructType

    schema = StructType(
        [
            *scored.schema.fields,
            StructField("rank_in_district", LongType()),
            StructField("capacity", LongType()),
            StructField("flagged", BooleanType()),
            StructField("tier", StringType()),
        ]
    )

    def tiers(district: pd.DataFrame) -> pd.DataFrame:
        out = assign_tiers(district.astype({"family_id": str, "district": str}), capacity)
        return out.astype({"tier": object})

    return scored.groupBy("district").applyInPandas(tiers, schema=schema)


def model_udf_uri(uri: str, model: RiskModel, workdir: Path) -> str:
    """Return the URI the Spark UDF loads: the same model version the driver loaded.

    A registry alias is pinned to the version it resolved to on the driver; a bare model
    directory (``model.json`` + ``booster.txt``) is saved as an MLflow pyfunc in ``workdir``.
    """
    match = _MODELS_URI.match(uri)
    if match is not None:
        if match["alias"] and model.version.isdigit():
            return f"models:/{match['name']}/{model.version}"
        return uri
    local = Path(uri)
    if local.is_dir():
        if (local / "MLmodel").exists():
            return str(local)
        return str(save_risk_model(model, workdir / "pyfunc"))
    return uri


def _signature_types(uri: str) -> dict[str, Any]:
    """Spark types of the model signature's inputs (the UDF refuses unsafe conversions)."""
    from mlflow.models import get_model_info
    from mlflow.types.schema import ColSpec, DataType

    signature = get_model_info(uri).signature
    if signature is None:
        return {}
    return {
        str(spec.name): spec.type.to_spark()
        for spec in signature.inputs.inputs
        if isinstance(spec, ColSpec) and spec.name is not None and isinstance(spec.type, DataType)
    }


def spark_screen(
    spark: SparkSession,
    records: SparkRecords,
    screener: Screener,
    model_uri: str,
    as_of: object,
    *,
    capacity: CapacityLike | None = None,
    exclude_events: Iterable[str] = (),
) -> SparkRun:
    """Screen a population on Spark: features, UDF scores, flags; explain the flagged on the driver.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
    records : SparkRecords
        From :func:`read_records`.
    screener : Screener
        The driver's copy of the model (explanations, payloads, services).
    model_uri : str
        The MLflow model the UDF loads (``models:/...``, ``runs:/...`` or a local directory).
    as_of : date-like
    capacity : Capacity, mapping or int, optional
        As for :meth:`risk.Screener.screen`.
    exclude_events : iterable of str
        ``event_id`` of disputed records.

    Raises
    ------
    ScreeningError
        The UDF's scores of the flagged families differ from the driver model's.
    features.RecordsError
        The records break a rule of the schema.
    """
    import mlflow.pyfunc
    from pyspark.sql import functions as F
    from pyspark.storagelevel import StorageLevel

    model = screener.model
    if isinstance(exclude_events, str):
        raise ScreeningError(
            f"exclude_events must be a collection of event ids, not {exclude_events!r}"
        )
    excluded = frozenset(str(e) for e in exclude_events)
    cap = resolve_capacity(capacity, model.capacity)
    try:
        t = pd.Timestamp(as_of).normalize()  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ScreeningError(f"as_of must be a date; got {as_of!r} ({exc})") from None
    vocabulary = model_vocabulary(model)  # the region's record types the model knows
    feats = spark_features(
        records,
        t,
        exclude_events=excluded,
        lookback_days=model.lookback_days,
        vocabulary=vocabulary,
    )

    with tempfile.TemporaryDirectory(prefix="risk-spark-model-") as tmp:
        uri = model_udf_uri(model_uri, model, Path(tmp))
        predict = mlflow.pyfunc.spark_udf(
            spark, uri, result_type="score double, log_odds double", env_manager="local"
        )
        types = _signature_types(uri)
        inputs = F.struct(
            *[
                (F.col(f).cast(types[f]) if f in types else F.col(f)).alias(f)
                for f in model.features
            ]
        )
        scored = feats.select("family_id", "district", predict(inputs).alias("p")).select(
            "family_id", "district", "p.score", "p.log_odds"
        )
        full = (
            assign_tiers_spark(scored, cap)
            .withColumn("model_version", F.lit(str(model.version)))
            .withColumn("as_of", F.lit(t.to_pydatetime()).cast("timestamp_ntz"))
            .withColumn("advisory", F.lit(True))
            .select(*SCORE_COLUMNS, "capacity")
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        by_district = reraising(lambda: _summary(full))
    population = by_district.loc[:, list(SUMMARY_COLUMNS)]
    n = int(population["families"].sum())
    base_rate = float(by_district["score_sum"].sum() / n) if n else 0.0

    scores = full.select(*SCORE_COLUMNS)
    flagged = scores.filter(F.col("flagged")).toPandas()
    ids = spark.createDataFrame([(str(f),) for f in flagged["family_id"]], "family_id string")
    rows = records.rows.join(F.broadcast(ids), "family_id").toArrow()
    flag_records = unstack(rows, records.extraction_date)
    flag_features = build_features(
        flag_records,
        t,
        exclude_events=excluded,
        lookback_days=model.lookback_days,
        vocabulary=vocabulary,
    )
    screening = SparkScreening(
        population_summary=population,
        population_base_rate=base_rate,
        records=flag_records,
        features=flag_features,
        as_of=t,
        model=model,
        capacity=cap,
        catalog=screener.catalog,
        excluded_events=excluded,
    )
    _check_agreement(screening.scores, flagged)
    return SparkRun(scores=scores, screening=screening)


def _summary(scores: DataFrame) -> pd.DataFrame:
    from pyspark.sql import functions as F

    def count(tier: str) -> Column:
        return F.sum(F.when(F.col("tier") == tier, 1).otherwise(0)).cast("bigint").alias(tier)

    frame = (
        scores.groupBy("district")
        .agg(
            F.count(F.lit(1)).alias("families"),
            F.sum(F.col("flagged").cast("bigint")).alias("flagged"),
            F.first("capacity").alias("capacity"),
            *(count(tier) for tier in TIERS),
            F.sum("score").alias("score_sum"),
        )
        .toPandas()
    )
    frame = frame.sort_values("district", kind="stable").reset_index(drop=True)
    frame["district"] = frame["district"].astype("str")
    return frame.astype({c: np.int64 for c in SUMMARY_COLUMNS[1:]})


def _check_agreement(local: pd.DataFrame, spark: pd.DataFrame) -> None:
    """Check that the driver sees the flagged families as Spark does: ids, ranks, scores."""
    a = local.set_index("family_id").sort_index()
    b = spark.assign(family_id=spark["family_id"].astype(str)).set_index("family_id").sort_index()
    if not a.index.equals(b.index):
        raise ScreeningError(
            f"the driver flags {len(a)} families where Spark flagged {len(b)}; "
            "the UDF and the driver's model differ"
        )
    worst = float(np.max(np.abs(a["score"].to_numpy() - b["score"].to_numpy()), initial=0.0))
    ranks = a["rank_in_district"].to_numpy() != b["rank_in_district"].to_numpy()
    if worst > SCORE_TOLERANCE or ranks.any():
        raise ScreeningError(
            f"the Spark UDF and the driver's model disagree on flagged families (largest score "
            f"difference {worst:.3g}, {int(ranks.sum())} ranks differ); check that both load "
            f"the same model version"
        )


def write_run(run: SparkRun, out: str) -> tuple[str, str]:
    """Write the scores and the flagged families' explanations as Parquet (overwritten).

    Returns the two paths: ``out`` and ``<out without .parquet>.explanations.parquet``.
    """
    spark = run.scores.sparkSession
    explained = f"{out.removesuffix('.parquet')}.explanations.parquet"
    run.scores.write.mode("overwrite").parquet(out)
    import pyarrow as pa

    frame = pa.Table.from_pandas(run.screening.explanations_frame(), preserve_index=False)
    spark.createDataFrame(frame).coalesce(1).write.mode("overwrite").parquet(explained)
    return out, explained
