"""Performance at capacity: expected from calibrated scores, and realised once labels mature.

Each flag's calibrated score is its probability of the outcome, so with ``F`` the flagged
families and ``U`` the others of a district:

- expected precision ``= mean(p_i, i in F)``; the realised precision is ``S_F / |F|`` with
  ``S_F`` a Poisson-binomial count of variance ``sum(p_i (1 - p_i), i in F)``;
- expected recall ``= sum(p_F) / (sum(p_F) + sum(p_U))``; its variance is approximated by the
  delta method from the independent counts ``S_F`` and ``S_U``.

Intervals use the normal approximation of these variances (not simulation), clipped to [0, 1].
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.stats import norm

from features import InputError
from risk.metrics import ece

#: Columns of :func:`expected_performance`.
EXPECTED_COLUMNS: tuple[str, ...] = (
    "district",
    "families",
    "flagged",
    "expected_positives",
    "expected_precision",
    "precision_low",
    "precision_high",
    "expected_recall",
    "recall_low",
    "recall_high",
)

#: Columns of :func:`realised_performance` beyond those of :func:`expected_performance`.
REALISED_COLUMNS: tuple[str, ...] = (
    "positives",
    "realised_precision",
    "realised_recall",
    "ece",
    "precision_within",
    "recall_within",
)

#: Name of the row over every district.
TOTAL = "total"


def _expected_row(p: np.ndarray, flagged: np.ndarray, z: float) -> dict[str, float]:
    pf, pu = p[flagged], p[~flagged]
    k = len(pf)
    mf, mu = float(pf.sum()), float(pu.sum())
    vf, vu = float((pf * (1 - pf)).sum()), float((pu * (1 - pu)).sum())
    precision = mf / k if k else np.nan
    sd_precision = np.sqrt(vf) / k if k else np.nan
    total = mf + mu
    recall = mf / total if total > 0 else np.nan
    # Delta method for S_F / (S_F + S_U): gradient (mu, -mf) / total^2.
    sd_recall = np.sqrt(mu**2 * vf + mf**2 * vu) / total**2 if total > 0 else np.nan
    return {
        "families": len(p),
        "flagged": k,
        "expected_positives": total,
        "expected_precision": precision,
        "precision_low": max(0.0, precision - z * sd_precision),
        "precision_high": min(1.0, precision + z * sd_precision),
        "expected_recall": recall,
        "recall_low": max(0.0, recall - z * sd_recall),
        "recall_high": min(1.0, recall + z * sd_recall),
    }


def _groups(scores: pd.DataFrame, by: str) -> list[tuple[str, np.ndarray]]:
    keys = scores[by].astype(str).to_numpy()
    out = [(str(k), keys == k) for k in sorted(set(keys))]
    return [*out, (TOTAL, np.ones(len(scores), dtype=bool))]


def expected_performance(
    scores: pd.DataFrame, *, by: str = "district", level: float = 0.95
) -> pd.DataFrame:
    """Compute expected precision and recall at capacity per district, with intervals.

    Parameters
    ----------
    scores : pandas.DataFrame
        One row per screened family with at least ``score`` (calibrated probability),
        ``flagged`` and the column ``by`` (``Screening.scores``).
    by : str, default "district"
        Column to group by.
    level : float, default 0.95
        Coverage of the intervals.

    Returns
    -------
    pandas.DataFrame
        :data:`EXPECTED_COLUMNS` (the first named after ``by``), one row per group and a last
        row ``total``. Precision is NaN where nothing is flagged.

    Examples
    --------
    >>> s = pd.DataFrame({"district": ["a", "a", "a"], "score": [0.5, 0.5, 0.0],
    ...                   "flagged": [True, True, False]})
    >>> row = expected_performance(s).iloc[0]
    >>> float(row.expected_precision), float(row.expected_recall)
    (0.5, 1.0)
    """
    z = float(norm.ppf(0.5 + level / 2))
    p = scores["score"].to_numpy(dtype=np.float64)
    flagged = scores["flagged"].to_numpy(dtype=bool)
    rows = [{by: key, **_expected_row(p[m], flagged[m], z)} for key, m in _groups(scores, by)]
    columns = [by, *EXPECTED_COLUMNS[1:]]
    return pd.DataFrame(rows, columns=columns).astype({"families": "int64", "flagged": "int64"})


def realised_performance(
    scores: pd.DataFrame,
    labels: pd.Series,
    *,
    groups: Mapping[str, pd.Series] | None = None,
    level: float = 0.95,
    n_bins: int = 10,
) -> pd.DataFrame:
    """Realised precision, recall and calibration at capacity against what was expected.

    Use it once a run's horizon has passed and its outcomes are known.

    Parameters
    ----------
    scores : pandas.DataFrame
        The run's scores (``family_id``, ``district``, ``score``, ``flagged``).
    labels : pandas.Series
        Outcome (0/1) within the horizon, indexed by ``family_id``; every scored family needs one.
    groups : mapping of str to pandas.Series, optional
        More groupings (e.g. ``{"settlement": series}``), each indexed by ``family_id``.
    level : float, default 0.95
        Coverage of the expected intervals.
    n_bins : int, default 10
        Bins of the ECE (``risk.metrics.ece``).

    Returns
    -------
    pandas.DataFrame
        Columns ``by``, ``group``, then :data:`EXPECTED_COLUMNS` (without the first) and
        :data:`REALISED_COLUMNS`; ``*_within`` say whether the realised value lies in the
        expected interval.
    """
    ids = scores["family_id"].astype(str)
    y = labels.copy()
    y.index = y.index.astype(str)
    missing = ids[~ids.isin(y.index)]
    if len(missing):
        raise ValueError(
            f"labels: {len(missing)} scored families have no label "
            f"(family_id {', '.join(missing.head(3))})"
        )
    frame = scores.assign(label=y.reindex(ids).to_numpy(dtype=np.float64))
    groupings: dict[str, pd.Series] = {"district": scores["district"]}
    for name, series in (groups or {}).items():
        s = series.copy()
        s.index = s.index.astype(str)
        groupings[name] = pd.Series(s.reindex(ids).to_numpy(), index=scores.index)
    parts = []
    for name, keys in groupings.items():
        expected = expected_performance(frame.assign(_g=keys.astype(str)), by="_g", level=level)
        realised = []
        for key, m in _groups(frame.assign(_g=keys.astype(str)), "_g"):
            yy = frame["label"].to_numpy()[m]
            pp = frame["score"].to_numpy()[m]
            ff = frame["flagged"].to_numpy(dtype=bool)[m]
            pos = float(yy.sum())
            realised.append(
                {
                    "positives": int(pos),
                    "realised_precision": float(yy[ff].mean()) if ff.any() else np.nan,
                    "realised_recall": float(yy[ff].sum() / pos) if pos else np.nan,
                    "ece": ece(yy, pp, n_bins=n_bins) if len(yy) else np.nan,
                    "_key": key,
                }
            )
        r = pd.DataFrame(realised).drop(columns="_key")
        e = expected.rename(columns={"_g": "group"})
        part = pd.concat([e.reset_index(drop=True), r], axis=1)
        part.insert(0, "by", name)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["precision_within"] = out["realised_precision"].between(
        out["precision_low"], out["precision_high"]
    )
    out["recall_within"] = out["realised_recall"].between(out["recall_low"], out["recall_high"])
    return out


def matured_labels(
    outcomes: pd.DataFrame,
    family_ids: pd.Series,
    as_of: str | pd.Timestamp,
    *,
    horizon_days: int,
    extraction_date: str | pd.Timestamp,
) -> pd.Series:
    """Label each scored family: any registered outcome in ``(as_of, as_of + horizon]``.

    A run's labels exist only once its horizon has passed: the records must have been
    extracted on or after ``as_of + horizon_days``.

    Raises
    ------
    risk.InputError
        The horizon has not passed by the records' extraction date (both dates named).

    Examples
    --------
    >>> out = pd.DataFrame({"family_id": ["a", "b"],
    ...                     "outcome_date": pd.to_datetime(["2024-03-01", "2026-01-01"])})
    >>> matured_labels(out, pd.Series(["a", "b", "c"]), "2024-01-01", horizon_days=365,
    ...                extraction_date="2025-12-31").tolist()
    [1, 0, 0]
    """
    start = pd.Timestamp(as_of)
    end = start + pd.Timedelta(days=horizon_days)
    if pd.Timestamp(extraction_date) < end:
        raise InputError(
            f"the run as of {start.date()} has a horizon to {end.date()}, after the records' "
            f"extraction date {pd.Timestamp(extraction_date).date()}: its labels have not "
            "matured yet"
        )
    dates = pd.to_datetime(outcomes["outcome_date"])
    inside = outcomes.loc[(dates > start) & (dates <= end), "family_id"].astype(str)
    ids = family_ids.astype(str)
    return pd.Series(ids.isin(set(inside)).astype(int).to_numpy(), index=ids.to_numpy())
