"""A small calibrated model trained on a synthetic population, for the screening tests."""

from __future__ import annotations

from collections.abc import Sequence

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from features import Records, Vocabulary, build_snapshots, risk_features
from risk import Calibration, Capacity, RiskModel


def train_small_model(
    records: Records,
    truth: pd.DataFrame,
    train_dates: Sequence[str],
    capacity: Capacity,
    *,
    max_depth: int = 4,
    num_leaves: int = 15,
    rounds: int = 40,
    unlabelled_are_negative: bool = False,
    vocabulary: Vocabulary | None = None,
) -> RiskModel:
    """LightGBM on snapshots at ``train_dates``, Platt scaling of its margin, a typical family.

    ``truth`` is the population's ``truth/snapshots.parquet``. A snapshot without a truth row
    fails unless ``unlabelled_are_negative``. ``vocabulary``: the records' event types (a
    region pack's); the model uses the built-in types' features only.
    """
    snaps = build_snapshots(records, list(train_dates), vocabulary=vocabulary)
    truth = truth.assign(as_of=pd.to_datetime(truth["as_of"]).astype("datetime64[s]"))
    label = truth.set_index(["as_of", "family_id"])["label"].reindex(snaps.index)
    if unlabelled_are_negative:
        label = label.fillna(0)
    assert not label.isna().any()
    names = tuple(f for f in risk_features() if not f.startswith("disabled") and f != "low_income")
    X = snaps.loc[:, list(names)].to_numpy(dtype=np.float64)
    params = {
        "objective": "binary", "max_depth": max_depth, "num_leaves": num_leaves,
        "learning_rate": 0.1, "min_data_in_leaf": 20, "verbose": -1, "seed": 0,
        "deterministic": True, "num_threads": 1,
    }  # fmt: skip
    booster = lgb.train(params, lgb.Dataset(X, label.to_numpy(dtype=np.float64)), rounds)
    margin = booster.predict(X, raw_score=True).reshape(-1, 1)
    fit = LogisticRegression(C=np.inf).fit(margin, label.to_numpy())
    calibration = Calibration(float(fit.intercept_[0]), float(fit.coef_[0, 0]))
    model = RiskModel(booster, names, calibration, capacity=capacity)
    return model.with_reference(snaps.loc[:, list(names)])
