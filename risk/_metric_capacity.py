"""Precision and recall at capacity: the flag rule of ``risk/_flags.py`` as a metric.

Flags are never decided here. A :class:`risk.Capacity` gives the deployed rule (top of each
district up to its capacity, and at or above the minimum score); an int or a mapping of group
to int gives the same ranking without a minimum score, as before the rule had one. Either way
:class:`risk._flags.Ranking` orders the rows once, on the full population, and flags them; a
bootstrap resample applies that same rule to its counts of rows (:meth:`Ranking.flagged_weight`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from risk._flags import Ranking, rank_for_capacity, rank_population, resolve_capacity
from risk._metric_kernels import FloatArray, MetricInputError, _labels, _scores, safe_divide
from risk._model import Capacity

#: What the metrics accept as capacity: the deployed rule, or a top-k with no minimum score.
CapacitySpec = Capacity | int | Mapping[Any, int]


@dataclass(frozen=True)
class _Capacity:
    """Rows ranked by the flag rule, with their labels in that order."""

    ranking: Ranking
    y: FloatArray  # label of each ranked position

    @property
    def order(self) -> NDArray[np.intp]:
        """Row of each ranked position."""
        return self.ranking.order


def _ranking(
    p: FloatArray,
    groups: ArrayLike | None,
    capacity: CapacitySpec,
    tie_break: ArrayLike | None,
) -> Ranking:
    n = p.shape[0]
    g = None
    if groups is not None:
        g = np.asarray(groups, dtype=object)
        if g.shape != (n,):
            raise MetricInputError(f"groups has shape {g.shape} but the scores have ({n},)")
        if pd.isna(g).any():
            raise MetricInputError(f"groups: {int(pd.isna(g).sum())} values are missing")
    tb = None
    if tie_break is not None:
        tb = np.asarray(tie_break, dtype=object)
        if tb.shape != (n,):
            raise MetricInputError(f"tie_break has shape {tb.shape} but the scores ({n},)")
    if isinstance(capacity, Capacity):
        cap = resolve_capacity(capacity, capacity)  # validates it
        if g is None:
            return rank_population(p, None, tb, lambda _: cap.default, cap.min_score)
        return rank_for_capacity(p, g, tb, cap)

    def capacity_of(group: Hashable) -> float:
        if isinstance(capacity, Mapping):
            return float(capacity[group]) if group in capacity else np.nan
        return float(capacity)

    ranking = rank_population(p, g, tb, capacity_of, -np.inf)
    missing = [u for u, c in zip(ranking.groups, ranking.capacity, strict=True) if np.isnan(c)]
    if missing:
        raise MetricInputError(f"capacity has no entry for groups {missing[:5]}")
    caps = ranking.capacity
    if (caps < 0).any() or not np.isfinite(caps).all():
        raise MetricInputError(f"capacity must be a non-negative integer; got {caps.min():g}")
    return ranking


def _capacity(
    y: FloatArray,
    p: FloatArray,
    groups: ArrayLike | None,
    capacity: CapacitySpec,
    tie_break: ArrayLike | None,
) -> _Capacity:
    ranking = _ranking(p, groups, capacity, tie_break)
    return _Capacity(ranking=ranking, y=y[ranking.order])


def _w_precision_recall(cap: _Capacity, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Precision and recall at capacity for weights ``w`` (B x n, in ranked order)."""
    flagged = cap.ranking.flagged_weight(w)
    tp = flagged @ cap.y
    return safe_divide(tp, flagged.sum(axis=1)), safe_divide(tp, w @ cap.y)


def top_k_per_group(
    scores: ArrayLike,
    groups: ArrayLike | None,
    k: CapacitySpec,
    *,
    tie_break: ArrayLike | None = None,
) -> NDArray[np.bool_]:
    """Flag the ``k`` highest scores in each group, deterministically.

    Within a group rows are ordered by score (descending), then by ``tie_break`` (ascending, for
    instance family ids), then by position, so equal scores never make the result depend on
    anything but the input. This is the flag rule of :func:`risk.flag_mask`; with an int or a
    mapping it has no minimum score.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Scores, higher means flagged first.
    groups : array-like of shape (n,) or None
        Group of each row (e.g. district); ``None`` means one group.
    k : Capacity, int or mapping
        Capacity: a :class:`risk.Capacity` (per district, and its minimum score: the deployed
        rule), the same int for every group, or a value per group (a mapping must cover every
        group).
    tie_break : array-like of shape (n,), optional
        Secondary sort key for equal scores.

    Returns
    -------
    numpy.ndarray of bool, shape (n,)
        True for flagged rows.

    Examples
    --------
    >>> top_k_per_group([0.9, 0.5, 0.5, 0.7], ["a", "a", "b", "b"], 1).tolist()
    [True, False, False, True]
    >>> top_k_per_group([0.5, 0.5, 0.5], None, 1, tie_break=["f3", "f1", "f2"]).tolist()
    [False, True, False]
    >>> top_k_per_group([0.9, 0.04], ["a", "b"], Capacity(default=1, min_score=0.05)).tolist()
    [True, False]
    """
    p = _scores(scores, len(np.asarray(scores)), "scores", probability=False)
    return _ranking(p, groups, k, tie_break).flagged()


def precision_recall_at_capacity(
    y: ArrayLike,
    p: ArrayLike,
    groups: ArrayLike | None,
    capacity: CapacitySpec,
    *,
    tie_break: ArrayLike | None = None,
) -> tuple[float, float]:
    """Precision and recall of the rows flagged at capacity in each group.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary labels.
    p : array-like of shape (n,)
        Scores.
    groups : array-like of shape (n,) or None
        Group of each row (e.g. district); ``None`` means one group.
    capacity : Capacity, int or mapping
        As in :func:`top_k_per_group`; a :class:`risk.Capacity` flags as the screener does.
    tie_break : array-like of shape (n,), optional
        Secondary key for equal scores (family ids, as the screener's).

    Returns
    -------
    tuple of float
        ``(precision, recall)``; precision is ``nan`` when nothing is flagged, recall when
        there is no positive.

    Examples
    --------
    >>> precision_recall_at_capacity([1, 0, 1, 0], [0.9, 0.8, 0.2, 0.7], ["a", "a", "b", "b"], 1)
    (0.5, 0.5)
    """
    yy = _labels(y)
    pp = _scores(p, yy.shape[0], probability=False)
    cap = _capacity(yy, pp, groups, capacity, tie_break)
    prec, rec = _w_precision_recall(cap, np.ones((1, yy.shape[0])))
    return float(prec[0]), float(rec[0])
