"""Model fitting: LightGBM with early stopping, calibration of its margin, and two baselines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from risk._model import Calibration, Capacity, RiskModel

POLICE_365D = (
    "domestic_disturbance_call_n_365d",
    "parent_administrative_offence_n_365d",
    "juvenile_offence_n_365d",
)


def model_features(exclude: Sequence[str]) -> tuple[str, ...]:
    """Registry features with role ``risk``, minus ``exclude`` (context never enters)."""
    from features import FEATURES

    excluded = set(exclude)
    return tuple(
        name for name, spec in FEATURES.items() if spec.role == "risk" and name not in excluded
    ) + tuple(
        # A context feature enters only when the definition stops excluding it on purpose
        # (the side-by-side "what the exclusions cost" model).
        name
        for name in ("low_income", "disabled_child", "disabled_parent")
        if name in FEATURES and name not in excluded and FEATURES[name].role == "context"
    )


def fit_platt(margin: np.ndarray, y: np.ndarray) -> Calibration:
    """Unpenalised logistic regression of the label on the margin: an affine calibration."""
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(y)) < 2:
        raise ValueError("calibration needs both classes in the validation snapshot")
    lr = LogisticRegression(C=np.inf, solver="lbfgs", max_iter=1000)
    lr.fit(np.asarray(margin).reshape(-1, 1), y)
    return Calibration(intercept=float(lr.intercept_[0]), slope=float(lr.coef_[0, 0]))


@dataclass(frozen=True)
class FitResult:
    """A fitted, calibrated model and how the fit went."""

    model: RiskModel
    best_iteration: int
    uncalibrated_valid: np.ndarray
    calibrated_valid: np.ndarray


def fit_lightgbm(
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_valid: pd.DataFrame,
    y_valid: np.ndarray,
    *,
    features: Sequence[str],
    params: Mapping[str, Any],
    num_boost_round: int,
    early_stopping_rounds: int,
    horizon_days: int,
    lookback_days: int,
    capacity: Capacity,
    name: str,
) -> FitResult:
    """Fit the booster with early stopping on validation, then calibrate its margin there."""
    import lightgbm as lgb

    cols = list(features)
    p = {"verbose": -1, "num_threads": 2, **dict(params)}
    train = lgb.Dataset(
        X_train[cols].to_numpy(np.float64), label=y_train, feature_name=cols, free_raw_data=True
    )
    valid = lgb.Dataset(X_valid[cols].to_numpy(np.float64), label=y_valid, reference=train)
    booster = lgb.train(
        p,
        train,
        num_boost_round=num_boost_round,
        valid_sets=[valid],
        valid_names=["validation"],
        callbacks=[lgb.early_stopping(early_stopping_rounds, verbose=False)],
    )
    booster.free_dataset()
    uncal = RiskModel(booster=booster, features=tuple(cols))
    margin = uncal.margin(X_valid)
    calibration = fit_platt(margin, y_valid)
    model = RiskModel(
        booster=booster,
        features=tuple(cols),
        calibration=calibration,
        horizon_days=horizon_days,
        lookback_days=lookback_days,
        capacity=capacity,
        name=name,
    )
    return FitResult(
        model=model,
        best_iteration=int(booster.best_iteration or booster.current_iteration()),
        uncalibrated_valid=1 / (1 + np.exp(-margin)),
        calibrated_valid=model.predict_proba(X_valid),
    )


def fit_logreg(X_train: pd.DataFrame, y_train: np.ndarray, features: Sequence[str]) -> Any:
    """Baseline: a logistic regression on the same features (log1p of counts, standardised)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    pipe = make_pipeline(
        FunctionTransformer(_signed_log1p),
        StandardScaler(),
        LogisticRegression(C=0.1, max_iter=2000),
    )
    return pipe.fit(X_train[list(features)].to_numpy(np.float64), y_train)


def _signed_log1p(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def rule_score(X: pd.DataFrame) -> np.ndarray:
    """Score by the current-practice rule: a low-income family with a police record in a year.

    Returns 1.0 for families the rule selects and 0.0 otherwise (with a tiny tie-breaker by the
    number of police records, so that top-k selection among the selected is not arbitrary).
    """
    police = X[list(POLICE_365D)].sum(axis=1).to_numpy(np.float64)
    selected = (X["low_income"].to_numpy() > 0) & (police > 0)
    return selected.astype(np.float64) * (0.5 + 0.5 * police / (1.0 + police))
