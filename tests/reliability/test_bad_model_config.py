"""Bad models and bad model definitions stop with an error naming the file and the key.

In the library (``Screener.load``, ``load_config``) and through the CLI: exit code 2, one line
``error: ...``, never a traceback.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
from typer.testing import CliRunner

from family_risk.cli import app
from risk import Screener
from risk._model import ModelError, RiskModel
from tests.paths import SAMPLE
from training._config import DEFAULT_CONFIG, ConfigError, load_config

runner = CliRunner()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    X = np.random.default_rng(0).normal(size=(200, 2))
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "min_data_in_leaf": 5},
        lgb.Dataset(X, (X[:, 0] > 0).astype(float)),
        num_boost_round=3,
    )
    model = RiskModel(booster, ("n_children", "youngest_child_age_years"))
    return model.save(tmp_path_factory.mktemp("model") / "good")


def _copy(model_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(model_dir, tmp_path / "model"))


def _edit_meta(model_dir: Path, **changes: object) -> None:
    meta_file = model_dir / "model.json"
    meta = json.loads(meta_file.read_text("utf-8"))
    meta.update(changes)
    meta_file.write_text(json.dumps(meta), encoding="utf-8")


def _score(tmp_path: Path, model: str) -> tuple[int, str]:
    result = runner.invoke(
        app,
        [
            "score",
            "--data",
            str(SAMPLE),
            "--as-of",
            "2025-06-30",
            "--model",
            model,
            "--out",
            str(tmp_path / "scores.parquet"),
            "--store",
            f"sqlite:///{tmp_path / 'review.db'}",
        ],
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert not (tmp_path / "scores.parquet").exists()
    return result.exit_code, result.stderr


def test_the_good_model_loads(model_dir: Path) -> None:
    assert Screener.load(model_dir).model.features == ("n_children", "youngest_child_age_years")


def test_a_feature_unknown_to_the_registry_is_named(model_dir: Path, tmp_path: Path) -> None:
    bad = _copy(model_dir, tmp_path)
    _edit_meta(bad, features=["n_children", "shoe_size"])
    with pytest.raises(ModelError, match=r"registry does not have: shoe_size"):
        Screener.load(bad)
    code, err = _score(tmp_path, str(bad))
    assert code == 2 and err.startswith("error: ") and "shoe_size" in err


def test_a_missing_model_directory_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ModelError, match=rf"^{missing}: no such model directory$"):
        Screener.load(missing)
    code, err = _score(tmp_path, str(missing))
    assert code == 2 and err.startswith(f"error: {missing}: no such model directory")


def test_a_directory_without_a_model_is_named(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match=r"empty: not a model directory"):
        Screener.load(tmp_path / "empty")


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: "this is not a LightGBM model\n",
        lambda text: text[: len(text) // 3],
        lambda text: "",
    ],
    ids=["garbage", "truncated", "empty"],
)
def test_a_corrupted_booster_is_named(model_dir: Path, tmp_path: Path, damage) -> None:
    bad = _copy(model_dir, tmp_path)
    booster = bad / "booster.txt"
    booster.write_text(damage(booster.read_text("utf-8")), encoding="utf-8")
    with pytest.raises(ModelError, match=r"booster\.txt: not a LightGBM model"):
        Screener.load(bad)
    code, err = _score(tmp_path, str(bad))
    assert code == 2 and "booster.txt: not a LightGBM model" in err


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format": "pickle"}, r"model\.json: format 'pickle' is not"),
        ({"capacity": {"default": "many"}}, r"model\.json: key 'capacity\.default' must be int"),
        ({"calibration": "platt"}, r"model\.json: key 'calibration' must be dict"),
        ({"horizon_days": None}, r"model\.json: key 'horizon_days' must be int; got None"),
        ({"features": "n_children"}, r"model\.json: key 'features' must be list"),
    ],
    ids=["format", "capacity", "calibration", "horizon", "features"],
)
def test_a_malformed_model_json_names_file_and_key(
    model_dir: Path, tmp_path: Path, changes: dict, message: str
) -> None:
    bad = _copy(model_dir, tmp_path)
    _edit_meta(bad, **changes)
    with pytest.raises(ModelError, match=message):
        Screener.load(bad)


def test_model_json_that_is_not_json_is_named(model_dir: Path, tmp_path: Path) -> None:
    bad = _copy(model_dir, tmp_path)
    (bad / "model.json").write_text("{ half", encoding="utf-8")
    with pytest.raises(ModelError, match=r"model\.json: not valid JSON"):
        Screener.load(bad)


# ---- model definitions (models/*.toml) -------------------------------------------------------


def _config(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_CONFIG.read_text("utf-8")
    assert old in text, old
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    return bad


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("[calibration]", "[calibration", r"not valid TOML"),
        ("num_leaves = 15", 'num_leaves = "fifteen"', r"\[lightgbm\] num_leaves must be int"),
        ('method = "platt"', 'method = "isotonic"', r"\[calibration\] method must be one of"),
        (
            'exclude = ["disabled_child"',
            'exclude = ["shoe_size", "disabled_child"',
            r"\[features\] exclude names unknown features: shoe_size",
        ),
        ('exclude = ["disabled_child"', 'exclude = [3, "disabled_child"', r"\[features\] exclude"),
        ("default = 25", "default = -1", r"\[capacity\] default must be positive"),
        ("max_ece = 0.02", 'max_ece = "small"', r"\[promotion\] max_ece must be float"),
        ('first_as_of = "2021-01-01"', 'first_as_of = "soon"', r"\[snapshots\] first_as_of"),
        ("[model]\n", "[modle]\n", r"section \[model\] is missing"),
    ],
    ids=[
        "toml",
        "type",
        "calibration",
        "unknown-excluded",
        "excluded-not-a-name",
        "negative",
        "float",
        "date",
        "section",
    ],
)
def test_config_errors_name_file_section_and_key(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    bad = _config(tmp_path, old, new)
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(bad))}: (.* )?{message}"):
        load_config(bad)
    # The CLI reads the model definition before anything else and stops the same way.
    result = runner.invoke(
        app, ["train", "--data", str(SAMPLE), "--config", str(bad), "--tracking-uri", "x"]
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {bad}: "), result.stderr
    assert "Traceback" not in result.output


# ---- the MLflow registry ---------------------------------------------------------------------


def test_an_unknown_alias_names_the_uri_and_the_aliases_that_exist(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", uri)
    # An earlier test's training may have set MLflow's process-wide URIs: this test's store only.
    before = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    request.addfinalizer(
        lambda: (mlflow.set_tracking_uri(before[0]), mlflow.set_registry_uri(before[1]))
    )
    client = mlflow.MlflowClient(uri, registry_uri=uri)
    client.create_registered_model("family-distress")
    version = client.create_model_version("family-distress", source=str(model_dir))
    client.set_registered_model_alias("family-distress", "champion", version.version)
    code, err = _score(tmp_path, "models:/family-distress@nope")
    assert code == 2
    assert err.startswith("error: models:/family-distress@nope: "), err
    assert "aliases @champion -> 1" in err, err
    code, err = _score(tmp_path, "models:/no-such-model@champion")
    assert code == 2 and "registered models: family-distress" in err, err
