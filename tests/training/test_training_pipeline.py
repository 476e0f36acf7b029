"""Training: the split leaks nothing, calibration keeps explanations exact, MLflow round trip."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import shap
from hypothesis import given
from hypothesis import strategies as st

from features import load_records
from risk import RiskModel
from tests.paths import SAMPLE
from training import ConfigError, SplitError, load_config, load_truth, temporal_split
from training._data import label_snapshots


@pytest.fixture(scope="module")
def run(sample_run):
    return sample_run


@given(st.integers(min_value=8, max_value=24), st.sampled_from([180, 365, 400]))
def test_no_training_label_window_reaches_the_test_period(n_dates, horizon) -> None:
    dates = list(pd.date_range("2020-01-01", periods=n_dates, freq="3MS"))
    try:
        split = temporal_split(dates, horizon)
    except SplitError:
        return
    h = pd.Timedelta(days=horizon)
    assert split.validation + h <= split.test
    assert all(d + h <= split.test for d in split.train)
    assert all(d < split.validation for d in split.train)
    assert split.test == max(dates)


def test_split_refuses_too_few_dates() -> None:
    with pytest.raises(SplitError, match="needs at least 3 as-of dates; got 2"):
        temporal_split(list(pd.date_range("2021-01-01", periods=2, freq="3MS")), 365)


def test_labels_are_outcomes_in_the_window() -> None:
    recs = load_records(SAMPLE)
    ts, _ = load_truth(SAMPLE)
    assert ts is not None
    idx = pd.MultiIndex.from_frame(ts[["as_of", "family_id"]])
    got = label_snapshots(recs, idx, 365).to_numpy()
    np.testing.assert_array_equal(got, ts["label"].to_numpy())


def test_calibration_keeps_contributions_exact(run) -> None:
    X = run.shap_values_sample
    contrib, base = run.model.contributions(X)
    np.testing.assert_allclose(contrib.sum(axis=1) + base, run.model.log_odds(X), atol=1e-6)
    # Against the typical family: each feature's median over the training rows.
    assert run.model.baseline == "typical"
    typical = np.array([[run.model.reference[f] for f in run.model.features]])
    explainer = shap.TreeExplainer(
        run.model.booster, data=typical, feature_perturbation="interventional", model_output="raw"
    )
    sv = explainer.shap_values(X.to_numpy(np.float64))
    np.testing.assert_allclose(contrib.to_numpy(), sv * run.model.calibration.slope, atol=1e-6)


def test_metrics_and_calibration_reported(run) -> None:
    m = run.metrics
    for key in (
        "test_roc_auc",
        "test_pr_auc",
        "test_brier",
        "test_ece",
        "test_precision_at_capacity",
        "test_recall_at_capacity",
        "logreg_test_roc_auc",
        "rule_test_roc_auc",
        "oracle_test_roc_auc",
        "test_uncalibrated_ece",
    ):
        assert np.isfinite(m[key]), key
    assert m["test_roc_auc"] > m["rule_test_roc_auc"]
    assert m["test_roc_auc"] > 0.75
    assert m["test_ece"] < 0.03
    from sklearn.metrics import roc_auc_score

    t = run.evaluation.test
    assert m["test_roc_auc"] == pytest.approx(roc_auc_score(t["label"], t["score"]), abs=1e-12)


def test_default_exclusions_never_enter_the_model(run) -> None:
    assert not {"low_income", "disabled_child", "disabled_parent"} & set(run.model.features)
    assert {"low_income", "disabled_child"} <= set(run.included_features)
    assert run.with_exclusions_included is not None


def test_audit_against_distress_is_present(run) -> None:
    assert run.evaluation.audit_distress is not None
    assert set(run.evaluation.audit["attribute"]) == {
        "district",
        "settlement",
        "single_parent",
        "large_family",
        "disabled_child",
        "low_income",
    }


def test_model_round_trips_through_mlflow(run, tmp_path) -> None:
    from training import log_training_run

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    exp = mlflow.create_experiment("t", artifact_location=(tmp_path / "artifacts").as_uri())
    del exp
    run_id, version = log_training_run(run, uri=uri, experiment="t")
    assert version == "1"
    client = mlflow.MlflowClient(uri)
    assert str(client.get_model_version_by_alias("family-distress", "challenger").version) == "1"
    metrics = client.get_run(run_id).data.metrics
    assert metrics["test_roc_auc"] == pytest.approx(run.metrics["test_roc_auc"])
    local = mlflow.artifacts.download_artifacts(
        artifact_uri="models:/family-distress@challenger", dst_path=str(tmp_path / "dl")
    )
    loaded = RiskModel.load(f"{local}/artifacts/risk_model")
    X = run.shap_values_sample
    np.testing.assert_allclose(loaded.log_odds(X), run.model.log_odds(X), atol=1e-12)
    # The monitoring reference travels with the run: scoring finds it from the model's URI.
    from risk.commands.monitor import find_reference

    reference = find_reference("models:/family-distress@challenger")
    assert reference is not None and reference == run.reference
    pyfunc = mlflow.pyfunc.load_model("models:/family-distress@challenger")
    out = pyfunc.predict(X)  # the signature takes build_features' own dtypes
    np.testing.assert_allclose(out["score"], run.model.predict_proba(X), atol=1e-12)
    # Privacy: nothing logged names a family of the data.
    arts = tmp_path / "artifacts"
    ids = set(run.evaluation.test["family_id"])
    for f in arts.rglob("*"):
        if f.is_file() and f.suffix in {".csv", ".json", ".md", ".txt", ".yaml", ".MLmodel", ""}:
            text = f.read_text(errors="ignore")
            assert not any(i in text for i in list(ids)[:500]), f


def test_config_errors_name_file_section_and_key(tmp_path) -> None:
    bad = tmp_path / "m.toml"
    bad.write_text(
        Path(load_config().path).read_text().replace('method = "platt"', 'method = "isotonic"')
    )
    with pytest.raises(
        ConfigError, match=r"m\.toml: \[calibration\] method must be one of 'platt'; got 'isotonic'"
    ):
        load_config(bad)
    bad.write_text(
        Path(load_config().path)
        .read_text()
        .replace("horizon_days = 365", 'horizon_days = "a year"')
    )
    with pytest.raises(ConfigError, match=r"\[model\] horizon_days must be int; got 'a year'"):
        load_config(bad)
    with pytest.raises(ConfigError, match="no such model definition"):
        load_config(tmp_path / "missing.toml")
