"""A small model trained on the committed sample, its training reference, and a screening run."""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from features import Records, build_features, load_records
from risk import Calibration, Capacity, RiskModel, Screener, Screening, load_catalog
from risk.monitoring import Reference, reference_profile
from tests.risk.small_model import train_small_model

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "data" / "synthetic" / "sample"
TRAIN_DATES = ["2022-01-01", "2022-07-01", "2023-01-01"]
REFERENCE_AS_OF = "2023-07-01"
AS_OF = "2024-07-01"
CAPACITY = Capacity(default=8, per_district={"velikiy_novgorod": 30}, min_score=0.0)


@pytest.fixture(scope="session")
def records() -> Records:
    return load_records(SAMPLE)


@pytest.fixture(scope="session")
def truth() -> pd.DataFrame:
    frame = pd.read_parquet(SAMPLE / "truth" / "snapshots.parquet")
    return frame.assign(as_of=pd.to_datetime(frame["as_of"]))


@pytest.fixture(scope="session")
def model(records, truth) -> RiskModel:
    """Trained on three dates, calibrated on a later one whose labels matured before ``AS_OF``.

    Platt scaling fitted on the training rows themselves is overconfident at the top, where the
    flags are; training calibrates on held-out data, and so does this fixture. Shallow trees keep
    the margin close to linear in the log-odds, which an affine calibration can then follow.
    """
    fitted = train_small_model(
        records, truth, TRAIN_DATES, CAPACITY, max_depth=2, num_leaves=3, rounds=60
    )
    X = build_features(records, REFERENCE_AS_OF)
    held_out = truth.loc[truth["as_of"] == pd.Timestamp(REFERENCE_AS_OF)].set_index("family_id")
    y = held_out["label"].reindex(X.index).fillna(0).to_numpy()
    margin = fitted.margin(X).reshape(-1, 1)
    platt = LogisticRegression(C=np.inf).fit(margin, y)
    calibration = Calibration(float(platt.intercept_[0]), float(platt.coef_[0, 0]))
    return dataclasses.replace(fitted, calibration=calibration)


@pytest.fixture(scope="session")
def screener(model) -> Screener:
    return Screener(model, catalog=load_catalog())


@pytest.fixture(scope="session")
def reference(records, screener) -> Reference:
    run = screener.screen(records, REFERENCE_AS_OF)
    lookback = screener.model.lookback_days
    return reference_profile(
        records, REFERENCE_AS_OF, run.features, run.scores["score"], lookback_days=lookback
    )


@pytest.fixture(scope="session")
def screening(screener, records) -> Screening:
    return screener.screen(records, AS_OF)


def without_source(
    records: Records, source: str, district: str, since: str | None = None, keep: float = 0.0
) -> Records:
    """Records in which ``source`` of ``district`` lost its events (from ``since``, if given).

    ``keep`` is the share of those events kept (every n-th), for a partial collapse.
    """
    events = records.events
    in_district = events["family_id"].isin(
        records.families.loc[records.families["district"] == district, "family_id"]
    )
    hit = in_district & (events["source"] == source)
    if since is not None:
        hit &= events["event_date"] >= pd.Timestamp(since)
    if keep > 0:
        positions = hit.to_numpy().nonzero()[0]
        kept = positions[:: round(1 / keep)]
        hit.iloc[kept] = False
    return records.replace(events=events.loc[~hit])
