"""The model as an MLflow pyfunc, so that MLflow serves it and Spark can use it as a UDF.

The logged model holds our model directory (``booster.txt`` + ``model.json``) as the artifact
``risk_model``; loading it reads LightGBM's text format. The wrapper is logged "from code"
(``risk/_pyfunc_entry.py``), so loading runs only code from the installed ``family-risk`` package
and unpickles nothing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

try:  # mlflow is an optional heavy dependency, imported where used
    from mlflow.pyfunc import PythonModel
except ImportError:  # pragma: no cover
    PythonModel = object  # type: ignore[assignment,misc]

from risk._model import RiskModel

ARTIFACT_KEY = "risk_model"


class RiskPyfunc(PythonModel):
    """``predict`` returns ``score`` (calibrated probability) and ``log_odds`` per row."""

    def load_context(self, context: Any) -> None:
        """Load the model directory MLflow unpacked."""
        self.model = RiskModel.load(context.artifacts[ARTIFACT_KEY])

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        """Score a frame holding the model's feature columns."""
        log_odds = self.model.log_odds(model_input)
        return pd.DataFrame({"score": 1 / (1 + np.exp(-log_odds)), "log_odds": log_odds})


def synthetic_input_example(model: RiskModel, n: int = 3, seed: int = 0) -> pd.DataFrame:
    """Make up an input example: never a row of real data."""
    from risk._vocabulary import model_specs

    specs = model_specs(model)  # with the region's own record types the model knows
    rng = np.random.default_rng(seed)
    cols = {}
    for name in model.features:
        spec = specs.get(name)
        fill = float(spec.fill) if spec is not None else 0.0
        values = np.full(n, fill) if rng.random() < 0.7 else rng.integers(0, 4, n).astype(float)
        # A records model takes exactly the dtypes ``features.build_features`` emits; a model
        # trained on a user's table (``risk train --table``) takes doubles.
        from_registry = spec is not None and model.metadata.get("feature_source") != "table"
        dtype = spec.dtype if from_registry and spec is not None else "float64"
        cols[name] = values.astype(dtype)
    return pd.DataFrame(cols)


def log_risk_model(
    model: RiskModel,
    *,
    name: str = "model",
    registered_model_name: str | None = None,
) -> Any:
    """Log ``model`` into the active MLflow run as a pyfunc; optionally register it.

    Returns MLflow's ``ModelInfo``.
    """
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        local = model.save(Path(tmp) / ARTIFACT_KEY)
        return mlflow.pyfunc.log_model(
            name=name,
            registered_model_name=registered_model_name,
            **_pyfunc_arguments(model, local),
        )


def save_risk_model(model: RiskModel, target: str | Path) -> Path:
    """Save ``model`` as an MLflow pyfunc directory at ``target``, as :func:`log_risk_model` does.

    For a model that lives in a plain directory, e.g. the Spark engine's UDF. Requirements are
    given, not inferred (inference imports every module in a subprocess: seconds per call).
    """
    import mlflow

    target = Path(target)
    with tempfile.TemporaryDirectory() as tmp:
        local = model.save(Path(tmp) / ARTIFACT_KEY)
        mlflow.pyfunc.save_model(str(target), **_pyfunc_arguments(model, local))
    return target


def model_signature(model: RiskModel) -> Any:
    """Return the signature the model is logged with: its feature columns, any numeric type.

    Records read from SQL or Spark arrive as floats and nullable integers, and MLflow refuses
    any conversion it does not deem safe (``float64`` for an ``int64`` column, even ``int64``
    for a ``double`` one). So the columns are named and required but typed ``any``; the model
    itself takes every numeric type that holds the values exactly and refuses, naming column
    and row, a value that is not a number or a fraction where it counts whole numbers.

    Examples
    --------
    >>> import lightgbm as lgb, numpy as np
    >>> X = np.arange(40.0).reshape(-1, 1)
    >>> booster = lgb.train({"objective": "binary", "verbose": -1, "min_data_in_leaf": 1},
    ...                     lgb.Dataset(X, (X[:, 0] > 20).astype(float)), num_boost_round=1)
    >>> model_signature(RiskModel(booster, ("n_children",))).inputs.to_dict()
    [{'type': 'any', 'name': 'n_children', 'required': True}]
    """
    from mlflow.models import ModelSignature
    from mlflow.types.schema import AnyType, ColSpec, Schema

    inputs = Schema([ColSpec(AnyType(), name) for name in model.features])
    outputs = Schema([ColSpec("double", "score"), ColSpec("double", "log_odds")])
    return ModelSignature(inputs=inputs, outputs=outputs)


def _pyfunc_arguments(model: RiskModel, local: Path) -> dict[str, Any]:
    example = synthetic_input_example(model)
    return {
        # A file path, not an object: loading runs our installed code and unpickles nothing.
        "python_model": str(Path(__file__).with_name("_pyfunc_entry.py")),
        "artifacts": {ARTIFACT_KEY: str(local)},
        "signature": model_signature(model),
        "input_example": example,
        "pip_requirements": _requirements(),
    }


def _requirements() -> list[str]:
    from importlib.metadata import version

    reqs = []
    for pkg in ("lightgbm", "numpy", "pandas", "mlflow"):
        reqs.append(f"{pkg}=={version(pkg)}")
    return reqs
