"""``RiskModel.margin`` scores in blocks; the blocks must not change a single margin."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

import risk._model as model_module
from risk._model import Calibration, ModelError, RiskModel


@pytest.fixture(scope="module")
def model_and_frame():
    rng = np.random.default_rng(7)
    n = 5_003  # not a multiple of any block or tile size below
    X = pd.DataFrame(
        {
            "count": rng.integers(0, 9, n),  # int64, as the count features are
            "amount": rng.gamma(2.0, 500.0, n),
            "flag": rng.random(n) < 0.3,
            "share": pd.array(np.where(rng.random(n) < 0.1, np.nan, rng.random(n)), "Float64"),
        }
    )
    label = (X["count"] + 3 * X["flag"] + rng.normal(0, 2, n) > 6).to_numpy(dtype=np.float64)
    dense = X.astype("float64").to_numpy()
    params = {"objective": "binary", "num_leaves": 15, "verbose": -1, "seed": 0}
    booster = lgb.train(params, lgb.Dataset(dense, label), 30)
    model = RiskModel(booster, ("count", "amount", "flag", "share"), Calibration(-0.5, 0.9))
    return model, X, dense


@pytest.mark.parametrize(("block", "tile"), [(1_000, 64), (4_096, 4_096), (65_536, 8_192)])
def test_block_scoring_equals_one_call_on_the_whole_matrix(
    model_and_frame, monkeypatch, block, tile
):
    model, X, dense = model_and_frame
    monkeypatch.setattr(model_module, "SCORE_BLOCK_ROWS", block)
    monkeypatch.setattr(model_module, "_TILE_ROWS", tile)
    expected = model.booster.predict(dense, raw_score=True)
    assert np.array_equal(model.margin(X), expected)
    assert np.array_equal(model.log_odds(X), -0.5 + 0.9 * expected)


def test_columns_are_taken_by_name_not_position(model_and_frame):
    model, X, dense = model_and_frame
    shuffled = X[["share", "flag", "amount", "count"]].assign(extra=1.0)
    assert np.array_equal(model.margin(shuffled), model.booster.predict(dense, raw_score=True))


def test_no_rows_score_to_no_margins(model_and_frame):
    model, X, _ = model_and_frame
    assert model.margin(X.iloc[:0]).shape == (0,)


def test_a_missing_feature_is_named(model_and_frame):
    model, X, _ = model_and_frame
    with pytest.raises(ModelError, match=r"lacks 1 model feature\(s\): amount"):
        model.margin(X.drop(columns="amount"))
