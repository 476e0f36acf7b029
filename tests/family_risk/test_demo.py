"""The demo's promotion step: it never signs off its own fairness flags."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.pyfunc import PythonModel

from family_risk._demo import CHALLENGER_URI, CHAMPION_URI, decide_promotion

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:mlflow.*",
    "ignore::FutureWarning:mlflow.*",
    "ignore::UserWarning:mlflow.*",
    "ignore::DeprecationWarning:alembic.*",
    "ignore::DeprecationWarning:sqlalchemy.*",
    "ignore::DeprecationWarning:pydantic.*",
)

NAME = "family-distress"  # the demo's model
GOOD = {
    "test_roc_auc": 0.85,
    "test_precision_at_capacity": 0.30,
    "test_ece": 0.01,
    "logreg_test_roc_auc": 0.843,
    "logreg_test_precision_at_capacity": 0.25,
    "rule_test_roc_auc": 0.60,
    "rule_test_precision_at_capacity": 0.10,
}


def _audit(fpr: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "attribute": ["low_income", "low_income"],
            "group": ["False", "True"],
            "n": [5000, 1500],
            "fpr_ratio": [1.0, fpr],
            "fnr_ratio": [1.0, 1.0],
            "ppv_ratio": [1.0, 1.0],
        }
    )


class Constant(PythonModel):
    """A trivial model: the registry needs something to version."""

    def predict(self, context: object, model_input: pd.DataFrame, params: object = None) -> list:
        return [0.5] * len(model_input)


@contextlib.contextmanager
def _scoped_mlflow(uri: str) -> Iterator[None]:
    # mlflow.set_*_uri also export MLFLOW_*_URI, which later trainings would follow.
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    env = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])
        for key, value in env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _store(tmp: Path, metrics: dict[str, float], audit: pd.DataFrame) -> tuple[str, str]:
    uri = f"sqlite:///{tmp}/mlflow.db"
    csv = tmp / "audit.csv"
    audit.to_csv(csv, index=False)
    with _scoped_mlflow(uri):
        exp = mlflow.create_experiment("demo", artifact_location=(tmp / "art").as_uri())
        mlflow.set_experiment(experiment_id=exp)
        with mlflow.start_run():
            mlflow.log_metrics(metrics)
            mlflow.log_artifact(str(csv), "fairness")
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=Constant(),
                registered_model_name=NAME,
                pip_requirements=[],
            )
        version = str(info.registered_model_version)
        mlflow.MlflowClient().set_registered_model_alias(NAME, "challenger", version)
    return uri, version


def _tags_and_aliases(uri: str, version: str) -> tuple[dict[str, str], list[str]]:
    mv = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri).get_model_version(NAME, version)
    return dict(mv.tags), list(mv.aliases)


def test_a_fairness_flag_stops_promotion_and_nothing_is_explained(tmp_path: Path) -> None:
    uri, version = _store(tmp_path, GOOD, _audit(fpr=2.0))  # only the fairness gate fails
    said: list[str] = []
    model, notice = decide_promotion(version, uri, say=said.append)
    assert model == CHALLENGER_URI
    tags, aliases = _tags_and_aliases(uri, version)
    assert "champion" not in aliases
    assert not [key for key in tags if key.startswith("fairness_explanations")]
    assert "promoted_at" not in tags
    assert tags["gates"] == "5/6 passed; failed: no unexplained fairness flag"
    text = "\n".join(said)
    assert "NOT promoted" in text and "no unexplained fairness flag" in text
    assert "--by NAME" in text
    assert notice is not None
    assert "не прошла проверки" in notice and "did not pass its promotion gates" in notice
    assert "no unexplained fairness flag" in notice and "challenger" in notice


def test_any_failed_gate_keeps_the_challenger(tmp_path: Path) -> None:
    uri, version = _store(tmp_path, {**GOOD, "test_ece": 0.05}, _audit(fpr=1.0))
    model, notice = decide_promotion(version, uri, say=lambda _line: None)
    assert model == CHALLENGER_URI
    assert notice is not None and "calibration" in notice
    assert "champion" not in _tags_and_aliases(uri, version)[1]


def test_a_version_that_passes_every_gate_becomes_champion(tmp_path: Path) -> None:
    uri, version = _store(tmp_path, GOOD, _audit(fpr=1.1))
    model, notice = decide_promotion(version, uri, say=lambda _line: None)
    assert (model, notice) == (CHAMPION_URI, None)
    tags, aliases = _tags_and_aliases(uri, version)
    assert "champion" in aliases and tags["promoted_by"] == "risk demo"


def test_the_app_shows_the_notice_as_text(tmp_path: Path) -> None:
    from review_app import build_app
    from risk.review import ReviewQueue

    queue = ReviewQueue(f"sqlite:///{tmp_path}/review.db")
    app = build_app(queue, notice="Кандидат <b>v3</b>\nChallenger <b>v3</b>")
    shown = [
        c["props"].get("value", "")
        for c in app.config["components"]
        if c["props"].get("value") and "v3" in str(c["props"].get("value"))
    ]
    assert shown == [
        '<div id="notice">Кандидат &lt;b&gt;v3&lt;/b&gt;\nChallenger &lt;b&gt;v3&lt;/b&gt;</div>'
    ]
    plain = build_app(queue)
    assert not any("notice" in str(c["props"].get("value", "")) for c in plain.config["components"])
