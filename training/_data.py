"""Labelled snapshots and the temporal split."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features import InputError, Records, Vocabulary, build_snapshots


class SplitError(InputError):
    """The as-of dates cannot be split without leakage."""


def label_snapshots(records: Records, index: pd.MultiIndex, horizon_days: int = 365) -> pd.Series:
    """Label = 1 when the family has any outcome in ``(as_of, as_of + horizon]``.

    ``index`` is a (``as_of``, ``family_id``) MultiIndex as returned by
    :func:`features.build_snapshots`.
    """
    fam = records.families["family_id"]
    out_code = pd.Categorical(records.outcomes["family_id"], categories=fam).codes
    out_day = records.outcomes["outcome_date"].to_numpy().astype("datetime64[D]")
    as_of = index.get_level_values("as_of")
    fam_code = pd.Categorical(index.get_level_values("family_id"), categories=fam).codes
    label = np.zeros(len(index), dtype=np.int8)
    for t in pd.unique(as_of):
        day = np.datetime64(pd.Timestamp(t).date(), "D")
        hit = np.zeros(len(fam), dtype=bool)
        in_window = (out_day > day) & (out_day <= day + np.timedelta64(horizon_days, "D"))
        hit[out_code[in_window]] = True
        rows = np.asarray(as_of == t)
        label[rows] = hit[fam_code[rows]]
    return pd.Series(label, index=index, name="label")


def quarterly_dates(first: str, last: pd.Timestamp, months: int = 3) -> list[pd.Timestamp]:
    """As-of dates every ``months`` months from ``first`` to ``last``."""
    return list(pd.date_range(pd.Timestamp(first), last, freq=f"{months}MS"))


def last_labelled_date(
    records: Records, first: str, horizon_days: int, months: int = 3
) -> pd.Timestamp:
    """Return the last as-of date whose label window ends by the extraction date."""
    limit = records.extraction_date - pd.Timedelta(days=horizon_days)
    dates = quarterly_dates(first, limit, months)
    if not dates:
        raise SplitError(
            f"no as-of date from {first} has a complete {horizon_days}-day label window before "
            f"the extraction date {records.extraction_date.date()}"
        )
    return dates[-1]


@dataclass(frozen=True)
class TemporalSplit:
    """Which as-of dates train, validate (and calibrate) and test."""

    train: tuple[pd.Timestamp, ...]
    validation: pd.Timestamp
    test: pd.Timestamp
    horizon_days: int

    def describe(self) -> dict[str, str]:
        """Plain description for the model card and MLflow params."""
        return {
            "train_as_of": (
                f"{self.train[0].date()} … {self.train[-1].date()} ({len(self.train)} dates)"
            ),
            "validation_as_of": str(self.validation.date()),
            "test_as_of": str(self.test.date()),
            "horizon_days": str(self.horizon_days),
        }


def temporal_split(dates: Sequence[pd.Timestamp], horizon_days: int) -> TemporalSplit:
    """Train on early dates, validate on one a horizon before the test date, test on the last.

    No training or validation label window reaches past the test as-of date, so nothing the
    model learns from overlaps the period it is tested on.

    Examples
    --------
    >>> dates = pd.date_range("2021-01-01", "2024-10-01", freq="3MS")
    >>> s = temporal_split(list(dates), 365)
    >>> str(s.test.date()), str(s.validation.date()), str(s.train[-1].date())
    ('2024-10-01', '2023-10-01', '2023-07-01')
    """
    ordered = sorted(pd.Timestamp(d) for d in dates)
    if len(ordered) < 3:
        raise SplitError(f"a temporal split needs at least 3 as-of dates; got {len(ordered)}")
    test = ordered[-1]
    horizon = pd.Timedelta(days=horizon_days)
    valid_candidates = [d for d in ordered if d + horizon <= test]
    if not valid_candidates:
        raise SplitError(
            f"no as-of date lies a full horizon ({horizon_days} days) before the test date "
            f"{test.date()}"
        )
    validation = valid_candidates[-1]
    train = tuple(d for d in ordered if d < validation)
    if not train:
        raise SplitError(
            f"no as-of date before the validation date {validation.date()} to train on"
        )
    return TemporalSplit(train=train, validation=validation, test=test, horizon_days=horizon_days)


@dataclass(frozen=True)
class Snapshots:
    """Features, labels and (for synthetic data) the truth, per (as_of, family_id)."""

    X: pd.DataFrame
    y: pd.Series
    truth: pd.DataFrame | None  # p_true, distress aligned to X's index, when the data carry truth/


def load_truth(path: str | Path) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Read ``truth/snapshots.parquet`` and ``truth/families.parquet`` if they exist."""
    root = Path(path) / "truth"
    snaps = root / "snapshots.parquet"
    fams = root / "families.parquet"
    s = pd.read_parquet(snaps) if snaps.exists() else None
    f = pd.read_parquet(fams) if fams.exists() else None
    if s is not None:
        s["as_of"] = pd.to_datetime(s["as_of"]).astype("datetime64[s]")
    return s, f


def labelled_snapshots(
    records: Records,
    dates: Sequence[pd.Timestamp],
    *,
    horizon_days: int,
    lookback_days: int,
    truth_snapshots: pd.DataFrame | None = None,
    vocabulary: Vocabulary | None = None,
) -> Snapshots:
    """Build features at every date, attach labels and, when given, the truth."""
    X = build_snapshots(records, list(dates), lookback_days=lookback_days, vocabulary=vocabulary)
    assert isinstance(X.index, pd.MultiIndex)
    y = label_snapshots(records, X.index, horizon_days)
    truth = None
    if truth_snapshots is not None:
        t = truth_snapshots.set_index(["as_of", "family_id"])[["p_true", "distress"]]
        key = pd.MultiIndex.from_arrays(
            [
                pd.DatetimeIndex(X.index.get_level_values("as_of")).astype("datetime64[s]"),
                X.index.get_level_values("family_id"),
            ],
            names=["as_of", "family_id"],
        )
        truth = t.reindex(key)
        truth.index = X.index
    return Snapshots(X=X, y=y, truth=truth)


def treated_windows(
    index: pd.Index, treatments: pd.DataFrame | None, horizon_days: int
) -> np.ndarray:
    """Mark the snapshots whose label window outreach may have changed.

    A snapshot at ``T`` of a family is touched when the family's outreach started in
    ``(T - horizon, T + horizon)``: inside the label window ``(T, T + horizon]`` it lowers
    the outcomes still to come, and one started less than a horizon before ``T`` may still be
    acting (how long an effect lasts is unknown to training, so it is taken as at most one
    horizon). Offers that were declined (no ``outreach_started_at``) touch nothing.

    Parameters
    ----------
    index : pandas.MultiIndex
        (``as_of``, ``family_id``), as :func:`features.build_snapshots` returns it.
    treatments : pandas.DataFrame or None
        At least ``family_id`` and ``outreach_started_at`` (the review store's treatment
        record); ``None`` or empty: nothing is touched.
    horizon_days : int
        The label horizon.

    Returns
    -------
    numpy.ndarray of bool
        One per row of ``index``.

    Examples
    --------
    >>> idx = pd.MultiIndex.from_product(
    ...     [pd.to_datetime(["2022-01-01", "2023-01-01", "2024-06-01"]), ["f1", "f2"]],
    ...     names=["as_of", "family_id"],
    ... )
    >>> tr = pd.DataFrame({"family_id": ["f1"], "outreach_started_at": ["2023-03-01"]})
    >>> treated_windows(idx, tr, 365).reshape(3, 2).tolist()
    [[False, False], [True, False], [False, False]]
    """
    touched = np.zeros(len(index), dtype=bool)
    if treatments is None or treatments.empty:
        return touched
    started = pd.to_datetime(treatments["outreach_started_at"]).astype("datetime64[s]")
    starts = pd.DataFrame({"family_id": treatments["family_id"].astype(str), "s": started})
    starts = starts.dropna(subset=["s"])
    rows = pd.DataFrame(
        {
            "row": np.arange(len(index)),
            "family_id": index.get_level_values("family_id").astype(str),
            "t": pd.DatetimeIndex(index.get_level_values("as_of")).astype("datetime64[s]"),
        }
    ).merge(starts, on="family_id")
    horizon = pd.Timedelta(days=horizon_days)
    hit = (rows["s"] > rows["t"] - horizon) & (rows["s"] < rows["t"] + horizon)
    touched[rows.loc[hit, "row"].to_numpy()] = True
    return touched
