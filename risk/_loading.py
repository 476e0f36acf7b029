"""Loading a model for screening: a local directory, an MLflow run or the MLflow registry.

MLflow is imported only when an MLflow URI is loaded: screening a local model never needs it.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from risk._model import ModelError, RiskModel
from risk._vocabulary import model_specs

#: Features of another role than ``risk`` that a model may still use (none: context features
#: such as disability or low income serve needs and audits, never the score).
ALLOWED_NON_RISK_FEATURES: frozenset[str] = frozenset()

#: Where an MLflow model logged by ``risk/_pyfunc.py`` keeps the model directory.
MLFLOW_MODEL_SUBDIR = Path("artifacts") / "risk_model"

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_MODELS_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>[^/]+))/?$")


def check_model(model: RiskModel, allowed: Iterable[str] = ALLOWED_NON_RISK_FEATURES) -> None:
    """Check that a model's features are in the installed registry and may be model input.

    Raises
    ------
    ModelError
        Naming the model and every feature that differs: names the registry does not know,
        context features (never model input) that are not explicitly allowed, or a booster that
        expects another number of inputs.

    Examples
    --------
    >>> import lightgbm as lgb, numpy as np
    >>> booster = lgb.train({"verbose": -1}, lgb.Dataset(np.eye(30)[:, :2], np.arange(30.0)),
    ...                     num_boost_round=1)
    >>> check_model(RiskModel(booster, ("n_children", "low_income")))
    Traceback (most recent call last):
    ...
    risk._model.ModelError: model family-distress version local uses 1 context feature(s) that are never model input: low_income
    """  # noqa: E501
    specs = model_specs(model)  # the registry of the vocabulary the model was trained with
    model.check_features(list(specs))
    allowed_set = set(allowed)
    context = [f for f in model.features if specs[f].role != "risk" and f not in allowed_set]
    if context:
        raise ModelError(
            f"model {model.name} version {model.version} uses {len(context)} context feature(s) "
            f"that are never model input: {', '.join(context)}"
        )
    n_inputs = int(model.booster.num_feature())
    if n_inputs != len(model.features):
        raise ModelError(
            f"model {model.name} version {model.version}: the booster takes {n_inputs} inputs "
            f"but model.json lists {len(model.features)} features"
        )


def load_model(uri: str | os.PathLike[str]) -> RiskModel:
    """Load a model from the MLflow registry, an MLflow run or a local directory.

    See :meth:`risk.Screener.load` for the forms of ``uri``.

    Raises
    ------
    ModelError
        Naming the URI: no such directory, no model in it, an unknown registered model,
        alias or version (with what exists).

    Examples
    --------
    >>> load_model("/nonexistent/model")
    Traceback (most recent call last):
    ...
    risk._model.ModelError: /nonexistent/model: no such model directory
    """
    text = os.fspath(uri)
    if isinstance(uri, str) and _URI.match(text) and not Path(text).exists():
        return _load_mlflow(text)
    return RiskModel.load(_model_dir(Path(text), text))


def _model_dir(root: Path, uri: str) -> Path:
    if not root.is_dir():
        raise ModelError(f"{uri}: no such model directory")
    for candidate in (root, root / MLFLOW_MODEL_SUBDIR):
        if (candidate / "model.json").exists():
            return candidate
    raise ModelError(
        f"{uri}: not a model directory (no model.json in it nor in {MLFLOW_MODEL_SUBDIR})"
    )


def _load_mlflow(uri: str) -> RiskModel:
    import mlflow
    from mlflow.exceptions import MlflowException

    match = _MODELS_URI.match(uri)
    if uri.startswith("models:") and match is None:
        raise ModelError(f"{uri}: a registry URI is models:/NAME@ALIAS or models:/NAME/VERSION")
    try:
        version: str | None = None
        if match is not None:
            name = match["name"]
            if match["alias"]:
                client = mlflow.MlflowClient()
                version = str(client.get_model_version_by_alias(name, match["alias"]).version)
            elif match["version"] and match["version"].isdigit():
                version = match["version"]
        with tempfile.TemporaryDirectory(prefix="risk-model-") as tmp:
            local = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp)
            model = RiskModel.load(_model_dir(Path(local), uri))
    except MlflowException as exc:
        hint = _registry_hint(uri)
        raise ModelError(f"{uri}: cannot load the model: {exc.message}{hint}") from None
    if match is not None and version is not None:
        model = model.with_version(version, name=match["name"])
    return model


def _registry_hint(uri: str) -> str:
    """Say what the registry holds, next to a failed lookup ('' if it cannot be read)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    match = _MODELS_URI.match(uri)
    if match is None:
        return ""
    client = mlflow.MlflowClient()
    try:
        names = sorted(m.name for m in client.search_registered_models())
        if match["name"] not in names:
            return f"; registered models: {', '.join(names) or 'none'}"
        registered = client.get_registered_model(match["name"])
        aliases = ", ".join(f"@{a} -> {v}" for a, v in sorted(registered.aliases.items()))
        versions = sorted(
            int(v.version) for v in client.search_model_versions(f"name='{match['name']}'")
        )
        return (
            f"; {match['name']} has versions {', '.join(map(str, versions)) or 'none'} and "
            f"aliases {aliases or 'none'}"
        )
    except MlflowException:
        return ""
