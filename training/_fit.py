"""Model fitting: LightGBM with early stopping, calibration of its margin, and the baselines.

The baselines: a logistic regression, the current-practice rule of the records pipeline, and
the best single feature that stands in for that rule on a user's feature table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features import Vocabulary
from risk import Calibration, Capacity, RiskModel

POLICE_365D = (
    "domestic_disturbance_call_n_365d",
    "parent_administrative_offence_n_365d",
    "juvenile_offence_n_365d",
)


def model_features(exclude: Sequence[str], vocabulary: Vocabulary | None = None) -> tuple[str, ...]:
    """Registry features with role ``risk``, minus ``exclude`` (context never enters).

    ``vocabulary`` adds the features of a region's own record types.
    """
    from features import feature_specs

    specs = feature_specs(vocabulary)
    excluded = set(exclude)
    return tuple(
        name for name, spec in specs.items() if spec.role == "risk" and name not in excluded
    ) + tuple(
        # A context feature enters only when the definition stops excluding it on purpose
        # (the side-by-side "what the exclusions cost" model).
        name
        for name in ("low_income", "disabled_child", "disabled_parent")
        if name in specs and name not in excluded and specs[name].role == "context"
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
    ).with_reference(X_train)  # contributions are measured against the typical family
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


@dataclass(frozen=True)
class SingleFeatureRule:
    """The ``rule`` baseline of a table: one column, ranked by its training distribution."""

    feature: str
    direction: int  # +1: higher values rank first; -1: lower values do
    train_auc: float
    sorted_train: np.ndarray

    def score(self, X: pd.DataFrame) -> np.ndarray:
        """Training empirical CDF of the column (reversed when ``direction`` is -1), in [0, 1]."""
        x = _neg_inf_for_nan(X[self.feature].to_numpy(dtype=np.float64, na_value=np.nan))
        n = len(self.sorted_train)
        if self.direction > 0:
            return np.searchsorted(self.sorted_train, x, side="right") / n
        return 1.0 - np.searchsorted(self.sorted_train, x, side="left") / n

    def describe(self) -> str:
        """One line for the run and the card."""
        way = "higher" if self.direction > 0 else "lower"
        return (
            f"best single feature `{self.feature}` ({way} values first; "
            f"training AUC {self.train_auc:.3f})"
        )


def _neg_inf_for_nan(x: np.ndarray) -> np.ndarray:
    # A missing value ranks lowest: "no data" never puts a row first.
    return np.where(np.isnan(x), -np.inf, x)


def fit_single_feature_rule(X: pd.DataFrame, y: np.ndarray) -> SingleFeatureRule:
    """Choose the column whose training AUC is farthest from 0.5 (first one on ties).

    Examples
    --------
    >>> X = pd.DataFrame({"a": [1, 2, 3, 4], "b": [4, 3, 2, 0]})
    >>> rule = fit_single_feature_rule(X, np.array([0, 0, 1, 1]))
    >>> rule.feature, rule.direction, rule.score(X).tolist()
    ('a', 1, [0.25, 0.5, 0.75, 1.0])
    """
    values = np.column_stack(
        [_neg_inf_for_nan(X[c].to_numpy(dtype=np.float64, na_value=np.nan)) for c in X.columns]
    )
    ranks = pd.DataFrame(values).rank(method="average").to_numpy()
    n1 = float(y.sum())
    n0 = float(len(y) - n1)
    auc = (ranks[y == 1].sum(axis=0) - n1 * (n1 + 1) / 2) / (n1 * n0)
    best = int(np.argmax(np.abs(auc - 0.5)))
    return SingleFeatureRule(
        feature=str(X.columns[best]),
        direction=1 if auc[best] >= 0.5 else -1,
        train_auc=float(auc[best]),
        sorted_train=np.sort(values[:, best]),
    )
