"""Governance of registered versions on a local MLflow store: list, compare, rollback, names."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import typer
from mlflow.pyfunc import PythonModel
from typer.testing import CliRunner

from training import (
    CHAMPION,
    PromotionError,
    PromotionRefused,
    TrainingRun,
    list_versions,
    load_config,
    log_training_run,
    promote,
    rollback,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:mlflow.*",
    "ignore::FutureWarning:mlflow.*",
    "ignore::UserWarning:mlflow.*",
    "ignore::DeprecationWarning:alembic.*",
    "ignore::DeprecationWarning:sqlalchemy.*",
    "ignore::DeprecationWarning:pydantic.*",
)

NAME = "registry-test-model"
GOOD = {
    "test_roc_auc": 0.85,
    "test_precision_at_capacity": 0.30,
    "test_ece": 0.01,
    "logreg_test_roc_auc": 0.843,
    "logreg_test_precision_at_capacity": 0.25,
    "rule_test_roc_auc": 0.60,
    "rule_test_precision_at_capacity": 0.10,
}
CONFIG = load_config()
CFG = type(CONFIG)(
    **{
        **CONFIG.__dict__,
        "promotion": type(CONFIG.promotion)(
            **{**CONFIG.promotion.__dict__, "fairness_attributes": ("low_income",)}
        ),
    }
)


def _audit(fpr: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "attribute": ["low_income", "low_income"],
            "group": ["False", "True"],
            "n": [5000, 1200],
            "fpr_ratio": [1.0, fpr],
            "fnr_ratio": [1.0, 0.9],
            "ppv_ratio": [1.0, 1.0],
        }
    )


class Constant(PythonModel):
    """A trivial model: the registry needs something to version."""

    def predict(self, context: object, model_input: pd.DataFrame, params: object = None) -> list:
        return [0.5] * len(model_input)


def _log_version(tmp: Path, metrics: dict[str, float], audit: pd.DataFrame, excluded: str) -> str:
    csv = tmp / "audit.csv"
    audit.to_csv(csv, index=False)
    with mlflow.start_run():
        mlflow.log_metrics(metrics)
        mlflow.log_param("excluded_features", excluded)
        mlflow.log_artifact(str(csv), "fairness")
        info = mlflow.pyfunc.log_model(
            name="model", python_model=Constant(), registered_model_name=NAME, pip_requirements=[]
        )
    return str(info.registered_model_version)


@contextlib.contextmanager
def _scoped_mlflow(uri: str) -> Iterator[None]:
    """Point MLflow at ``uri``, then put its URIs and the environment back as they were."""
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


@pytest.fixture(scope="module")
def base_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three versions: v1 and v2 pass their gates, v3 fails calibration and fairness."""
    tmp_path = tmp_path_factory.mktemp("registry")
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    with _scoped_mlflow(uri):
        exp = mlflow.create_experiment("reg", artifact_location=(tmp_path / "art").as_uri())
        mlflow.set_experiment(experiment_id=exp)
        _log_version(tmp_path, GOOD, _audit(1.1), "disabled_child,low_income")
        _log_version(tmp_path, {**GOOD, "test_roc_auc": 0.86}, _audit(1.2), "disabled_child")
        _log_version(tmp_path, {**GOOD, "test_ece": 0.05}, _audit(2.0), "disabled_child")
    promote("1", model_name=NAME, tracking_uri=uri, config=CFG, by="anna")
    promote("2", model_name=NAME, tracking_uri=uri, config=CFG, by="boris")
    return tmp_path / "mlflow.db"


@pytest.fixture()
def store(base_store: Path, tmp_path: Path) -> str:
    """A copy of the base store's database for one test (the artifacts stay shared, unchanged)."""
    db = tmp_path / "mlflow.db"
    shutil.copyfile(base_store, db)
    return f"sqlite:///{db}"


def _version(uri: str, version: str) -> object:
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    return client.get_model_version(NAME, version)


def _run(cli: typer.Typer, *args: str, env: dict[str, str] | None = None) -> object:
    return CliRunner().invoke(cli, list(args), env=env, terminal_width=250)


def test_list_shows_versions_aliases_metrics_gates_and_who(store: str, cli: typer.Typer) -> None:
    with pytest.raises(PromotionRefused):
        promote("3", model_name=NAME, tracking_uri=store, config=CFG, by="anna")
    result = _run(cli, "models", "list", "--tracking-uri", store, "--model-name", NAME)
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()[3:] if line.strip()}
    assert list(lines) == ["3", "2", "1"]
    assert "champion" in lines["2"] and "0.860" in lines["2"] and "0.0100" in lines["2"]
    assert "6/6 passed" in lines["2"] and "by boris" in lines["2"]
    assert "failed: calibration: test_ece ≤ max_ece, no unexplained fairness flag" in lines["3"]
    assert "champion" not in lines["3"]
    assert "by anna" in lines["1"]


def test_compare_puts_metrics_audit_and_exclusions_side_by_side(
    store: str, cli: typer.Typer
) -> None:
    result = _run(cli, "models", "compare", "1", "3", "--tracking-uri", store, "--model-name", NAME)
    assert result.exit_code == 0, result.output
    out = result.output
    assert re.search(r"test_ece\s+0\.0100\s+0\.0500\s+\+0\.0400", out)
    assert re.search(r"test_roc_auc\s+0\.850\s+0\.850\s+\+0\.000", out)
    assert re.search(r"low_income=True\s+fpr_ratio\s+1\.10\s+2\.00\s+\+0\.90", out)
    assert "v1: disabled_child, low_income" in out and "v3: disabled_child" in out
    assert "included by v3 only: low_income" in out
    aliased = _run(cli, "models", "compare", "champion", "1", "--tracking-uri", store,
                   "--model-name", NAME)  # fmt: skip
    assert "version 2 (A) against version 1 (B)" in aliased.output


def test_rollback_moves_champion_and_records_who_and_why_on_both(
    store: str, cli: typer.Typer
) -> None:
    result = _run(
        cli, "models", "rollback", "--to", "1", "--reason", "v2 floods one district",
        "--by", "vera", "--tracking-uri", store, "--model-name", NAME,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "moved back from version 2 to version 1 by vera" in result.output
    v1, v2 = _version(store, "1"), _version(store, "2")
    assert CHAMPION in v1.aliases and CHAMPION not in v2.aliases
    assert v1.tags["rollback_by"] == "vera" and v1.tags["rollback_from"] == "2"
    assert v1.tags["rollback_reason"] == "v2 floods one district"
    assert v2.tags["rolled_back_by"] == "vera" and v2.tags["rolled_back_to"] == "1"
    assert v2.tags["rolled_back_reason"] == "v2 floods one district"
    assert v1.tags["rollback_at"] == v2.tags["rolled_back_at"]
    assert "rollback from v2 by vera: v2 floods one district" in v1.description
    assert "rolled back: champion moved to v1 by vera: v2 floods one district" in v2.description
    listed = _run(cli, "models", "list", "--tracking-uri", store, "--model-name", NAME).output
    assert "rolled back" in listed and "champion again" in listed


def test_rollback_takes_the_name_from_user_when_by_is_not_given(
    store: str, cli: typer.Typer
) -> None:
    common = ["models", "rollback", "--to", "1", "--reason", "why", "--tracking-uri", store,
              "--model-name", NAME]  # fmt: skip
    assert _run(cli, *common, env={"USER": ""}).exit_code == 2
    assert CHAMPION in _version(store, "2").aliases
    result = _run(cli, *common, env={"USER": "galina"})
    assert result.exit_code == 0, result.output
    assert _version(store, "1").tags["rollback_by"] == "galina"


@pytest.mark.parametrize(
    ("to", "reason", "message"),
    [
        ("99", "a reason", "has no version 99"),
        ("1", "   ", "must say why"),
        ("3", "a reason", "was never 'champion'"),
        ("2", "a reason", "already 'champion'"),
    ],
)
def test_rollback_refuses_with_exit_2_and_changes_nothing(
    store: str, cli: typer.Typer, to: str, reason: str, message: str
) -> None:
    result = _run(
        cli, "models", "rollback", "--to", to, "--reason", reason, "--by", "vera",
        "--tracking-uri", store, "--model-name", NAME,
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert CHAMPION in _version(store, "2").aliases
    assert all("rollback_at" not in _version(store, v).tags for v in ("1", "2", "3"))


def test_rollback_function_refuses_an_empty_name(store: str) -> None:
    with pytest.raises(PromotionError, match="person's name"):
        rollback("1", reason="why", by=" ", model_name=NAME, tracking_uri=store)


def test_an_explanation_needs_a_name_and_records_it(store: str, cli: typer.Typer) -> None:
    config = Path(CONFIG.path).read_text("utf-8").replace(
        'fairness_attributes = ["district", "settlement", "single_parent", "large_family", '
        '"disabled_child", "low_income"]',
        'fairness_attributes = ["low_income"]',
    )  # fmt: skip
    path = Path(store.removeprefix("sqlite:///")).parent / "model.toml"
    path.write_text(config, "utf-8")
    common = ["promote", "--version", "3", "--tracking-uri", store, "--model-name", NAME,
              "--config", str(path), "--explain", "low_income=True:fpr_ratio=reviewed"]  # fmt: skip
    anonymous = _run(cli, *common, env={"USER": ""})
    assert anonymous.exit_code == 2
    assert "--by NAME" in anonymous.output
    assert "fairness_explanations" not in _version(store, "3").tags
    with pytest.raises(PromotionError, match="name of the person"):
        promote("3", model_name=NAME, tracking_uri=store, config=CFG,
                explanations={"low_income=True:fpr_ratio": "reviewed"})  # fmt: skip
    named = _run(cli, *common, "--by", "dmitry")
    assert named.exit_code == 2  # calibration still fails
    tags = _version(store, "3").tags
    assert tags["fairness_explanations_by"] == "dmitry"
    assert "reviewed" in tags["fairness_explanations"]
    assert tags["gates"].startswith("5/6 passed; failed: calibration")


def test_a_training_run_has_a_readable_name_and_the_card_in_its_description(
    sample_run: TrainingRun, tmp_path: Path
) -> None:
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    with _scoped_mlflow(uri):
        mlflow.create_experiment("family-distress", artifact_location=(tmp_path / "a").as_uri())
        run_id, version = log_training_run(sample_run, uri=uri)
    assert version is not None
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    name = client.get_run(run_id).info.run_name
    as_of = sample_run.model.metadata["test_as_of"]
    assert re.fullmatch(rf"family-distress-{as_of}-[0-9a-f]{{8}}", name), name
    mv = client.get_model_version("family-distress", version)
    for part in ("**Intended use**", "**Out-of-scope uses**: eligibility", "**Key test metrics**",
                 "**Promotion gates at training**"):  # fmt: skip
        assert part in mv.description
    assert mv.tags["gates"] in mv.description
    (record,) = list_versions("family-distress", tracking_uri=uri)
    assert record.run_name == name and record.aliases == ("challenger",)
