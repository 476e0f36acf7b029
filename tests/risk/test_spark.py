"""The Spark engine equals the pandas engine: features exactly, scores to 1e-9, flags exactly.

Runs on local[2] with a few thousand synthetic families and a small model logged to a
temporary MLflow store. Skipped only when pyspark is missing and ``RISK_REQUIRE_SPARK`` is not
``1`` (CI sets it and installs the ``spark`` extra).
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from features import RecordsError, build_features, load_records
from risk import Capacity, RiskModel, Screener, load_catalog
from risk._flags import assign_tiers
from risk.review import ReviewQueue
from risk.synth import generate, write_population
from tests.risk.small_model import train_small_model

N_FAMILIES = 2000
AS_OF = "2024-07-01"
TRAIN_DATES = ["2022-01-01", "2022-07-01", "2023-01-01"]
CAPACITY = Capacity(default=6, per_district={"velikiy_novgorod": 15}, min_score=0.04)


@pytest.fixture(scope="module")
def spark():
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if os.environ.get("RISK_REQUIRE_SPARK") == "1":
            pytest.fail("RISK_REQUIRE_SPARK=1 but pyspark is not installed (extra 'spark')")
        pytest.skip("pyspark is not installed (pip install '.[spark]')")
    from risk.spark import spark_session

    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    session = spark_session("local[2]", shuffle_partitions=4, app_name="test-spark")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    records, truth = generate(n_families=N_FAMILIES, seed=7)
    return write_population(records, truth, tmp_path_factory.mktemp("spark") / "population")


@pytest.fixture(scope="module")
def records(data_dir):
    return load_records(data_dir)


def _train(records, data_dir) -> RiskModel:
    truth = pd.read_parquet(data_dir / "truth" / "snapshots.parquet")
    return train_small_model(
        records,
        truth,
        TRAIN_DATES,
        CAPACITY,
        max_depth=3,
        num_leaves=7,
        rounds=20,
        unlabelled_are_negative=True,
    )


@pytest.fixture(scope="module")
def model_uri(records, data_dir, tmp_path_factory):
    """A model logged to a temporary MLflow store, registered with the alias ``champion``."""
    import mlflow

    from risk._pyfunc import log_risk_model

    model = _train(records, data_dir)
    store = tmp_path_factory.mktemp("mlflow")
    before = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    uri = f"sqlite:///{store / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    mlflow.set_experiment(experiment_name="spark-test")
    with mlflow.start_run():
        info = log_risk_model(model, registered_model_name="family-distress")
    mlflow.MlflowClient().set_registered_model_alias(
        "family-distress", "champion", str(info.registered_model_version)
    )
    yield "models:/family-distress@champion"
    mlflow.set_tracking_uri(before[0])
    mlflow.set_registry_uri(before[1])


@pytest.fixture(scope="module")
def spark_records(spark, data_dir):
    from risk.spark import read_records

    return read_records(spark, data_dir, partitions=6)


@pytest.fixture(scope="module")
def screener(model_uri):
    return Screener.load(model_uri, catalog=load_catalog())


@pytest.fixture(scope="module")
def pandas_screening(screener, records):
    return screener.screen(records, AS_OF)


@pytest.fixture(scope="module")
def spark_run(spark, spark_records, screener, model_uri):
    from risk.spark import spark_screen

    return spark_screen(spark, spark_records, screener, model_uri, AS_OF)


def _spark_features(spark_records, **kwargs) -> pd.DataFrame:
    from risk.spark import reraising, spark_features

    frame = reraising(spark_features(spark_records, AS_OF, **kwargs).toPandas)
    return frame.set_index("family_id").sort_index()


@pytest.mark.parametrize(
    "options",
    [{}, {"lookback_days": 400, "exclude_events": "every 7th"}],
    ids=["default", "lookback-and-disputed"],
)
def test_features_equal_the_pandas_engine(spark_records, records, options):
    options = dict(options)
    if options.get("exclude_events") == "every 7th":
        options["exclude_events"] = frozenset(records.events["event_id"].iloc[::7].astype(str))
    got = _spark_features(spark_records, **options)
    expected = build_features(records, AS_OF, **options)
    fams = records.families.set_index("family_id")["district"]
    assert got["district"].tolist() == fams.reindex(got.index).tolist()
    got = got.drop(columns="district")
    got.index = got.index.astype(expected.index.dtype).rename(expected.index.name)
    assert len(got) > 1500
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_scores_flags_and_tiers_equal_the_pandas_engine(spark_run, pandas_screening):
    got = spark_run.scores.toPandas().set_index("family_id").sort_index()
    expected = pandas_screening.scores.set_index("family_id").sort_index()
    assert got.index.astype(str).tolist() == expected.index.astype(str).tolist()
    np.testing.assert_allclose(got["score"], expected["score"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["log_odds"], expected["log_odds"], rtol=0, atol=1e-9)
    for col in ("flagged", "tier", "rank_in_district", "district", "model_version", "advisory"):
        assert got[col].tolist() == expected[col].tolist(), col
    assert (pd.to_datetime(got["as_of"]) == pd.Timestamp(AS_OF)).all()
    assert got["flagged"].sum() > 20


def test_summary_and_payloads_equal_the_pandas_engine(spark_run, pandas_screening):
    screening = spark_run.screening
    pd.testing.assert_frame_equal(screening.summary(), pandas_screening.summary())
    assert screening.n_screened == len(pandas_screening.scores)
    assert screening.flagged_ids == pandas_screening.flagged_ids
    got, expected = screening.flag_payloads(), pandas_screening.flag_payloads()
    assert got.keys() == expected.keys()
    for fid, payload in got.items():
        assert payload["base_rate"] == pytest.approx(expected[fid]["base_rate"], abs=1e-12)
        same = {k: v for k, v in payload.items() if k != "base_rate"}
        assert json.dumps(same, sort_keys=True) == json.dumps(
            {k: v for k, v in expected[fid].items() if k != "base_rate"}, sort_keys=True
        )


def test_enqueue_count_equals_the_flags(spark_run, tmp_path):
    n_flags = spark_run.scores.filter("flagged").count()
    with ReviewQueue(f"sqlite:///{tmp_path / 'queue.db'}") as queue:
        result = queue.enqueue(spark_run.screening, "spark-run")
        again = queue.enqueue(spark_run.screening, "spark-run")
        items = queue.items(run_id="spark-run") if hasattr(queue, "items") else None
    assert result.n_flags == n_flags and result.created
    assert not again.created and again.n_flags == n_flags
    if items is not None:
        assert len(items) == n_flags


def test_spark_tiers_are_the_pandas_rule_with_ties(spark):
    from risk.spark import assign_tiers_spark

    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(
        {
            "family_id": [f"f{i:04d}" for i in rng.permutation(n)],
            "district": rng.choice(["a", "b", "c"], n),
            "score": rng.choice([0.01, 0.03, 0.05, 0.2, 0.5], n),  # many ties
        }
    )
    cap = Capacity(default=7, per_district={"b": 30}, min_score=0.05)
    got = assign_tiers_spark(spark.createDataFrame(frame.astype({"family_id": object,
        "district": object})), cap).toPandas()  # fmt: skip
    got = got.set_index("family_id").sort_index()
    expected = assign_tiers(frame, cap).set_index("family_id").sort_index()
    for col in ("rank_in_district", "capacity", "flagged", "tier"):
        assert got[col].tolist() == expected[col].tolist(), col


def _broken_copy(data_dir, tmp_path, table, change):
    out = tmp_path / "broken"
    shutil.copytree(data_dir, out, ignore=shutil.ignore_patterns("truth"))
    frame = pd.read_parquet(out / f"{table}.parquet")
    change(frame).to_parquet(out / f"{table}.parquet")
    return out


def test_a_broken_rule_in_a_partition_is_the_records_error(spark, data_dir, tmp_path):
    from risk.spark import read_records, reraising, spark_features

    def negative(ev):
        ev = ev.copy()
        ev.loc[ev.index[5], "value"] = -3.0
        ev.loc[ev.index[5], "event_type"] = "school_absence"
        ev.loc[ev.index[5], "source"] = "education"
        return ev

    broken = _broken_copy(data_dir, tmp_path, "events", negative)
    recs = read_records(spark, broken, partitions=3)
    with pytest.raises(RecordsError, match=r"events\.value: 1 row have negative values"):
        reraising(spark_features(recs, AS_OF).count)


@pytest.mark.parametrize(
    ("table", "column", "bad"),
    [("events", "event_type", "school_truancy"), ("members", "role", "grandmother")],
)
def test_a_code_outside_the_vocabulary_is_named_as_by_the_pandas_engine(
    spark, data_dir, tmp_path, table, column, bad
):
    """Codes travel as bytes on Spark; an unknown one still reaches validation as its text."""
    from features import load_records
    from risk.spark import read_records, reraising, spark_features

    def unknown(frame):
        frame = frame.copy()
        frame.loc[frame.index[[3, 7]], column] = bad
        return frame

    broken = _broken_copy(data_dir, tmp_path, table, unknown)
    with pytest.raises(RecordsError) as pandas_error:
        load_records(broken)
    assert bad in str(pandas_error.value)
    recs = read_records(spark, broken, partitions=1)
    with pytest.raises(RecordsError) as spark_error:
        reraising(spark_features(recs, AS_OF).count)
    assert str(spark_error.value) == str(pandas_error.value)


def test_ids_repeated_across_families_are_refused(spark, data_dir, tmp_path):
    from risk.spark import check_unique_ids, read_records

    def repeat(ev):
        ev = ev.copy()
        ev.loc[ev.index[-1], "event_id"] = ev["event_id"].iloc[0]
        return ev

    recs = read_records(spark, _broken_copy(data_dir, tmp_path, "events", repeat), partitions=3)
    with pytest.raises(
        RecordsError, match=r"events\.event_id: 2 rows share an id \[duplicate_id\]"
    ):
        check_unique_ids(recs)


def test_a_missing_column_is_refused_before_any_job(spark, data_dir, tmp_path):
    from risk.spark import read_records

    broken = _broken_copy(data_dir, tmp_path, "members", lambda m: m.drop(columns="sex"))
    with pytest.raises(RecordsError, match=r"members\.sex: required column\(s\) missing"):
        read_records(spark, broken, partitions=3)


def test_cli_engine_spark_writes_parquet_and_enqueues(spark, data_dir, model_uri, tmp_path):
    from family_risk.cli import app

    runner = CliRunner()
    store = f"sqlite:///{tmp_path / 'queue.db'}"
    out = tmp_path / "out" / "scores.parquet"
    result = runner.invoke(
        app,
        ["score", "--engine", "spark", "--data", str(data_dir), "--as-of", AS_OF,
         "--model", model_uri, "--store", store, "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    scores = pd.read_parquet(out)
    assert len(pd.read_parquet(tmp_path / "out" / "scores.explanations.parquet")) > 0
    n_flags = int(scores["flagged"].sum())
    assert f"{n_flags} flags enqueued" in result.output
    # The pandas engine computes the same run id from the same data: nothing enqueued twice.
    again = runner.invoke(
        app,
        ["score", "--data", str(data_dir), "--as-of", AS_OF, "--model", model_uri,
         "--store", store],
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    assert f"(already present: {n_flags})" in again.output

    feats = tmp_path / "features.parquet"
    result = runner.invoke(
        app,
        ["features", "--engine", "spark", "--data", str(data_dir), "--as-of", AS_OF,
         "--out", str(feats)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(pd.read_parquet(feats)) == len(scores)
