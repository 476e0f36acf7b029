"""Flags and tiers: who goes before a specialist, given each district's outreach capacity (pure).

Within each district the families are ranked by score (highest first; equal scores by
``family_id``, so the ranking does not depend on row order). A family is *flagged* when its rank
is within its district's capacity and its score reaches the minimum score. Because the ranking
does not depend on the capacity, raising a capacity can only add flags.

Tiers, after prevention programmes:

* ``priority``: flagged; the family goes to a specialist's review queue.
* ``support``: at or above the minimum score but beyond capacity; a waiting list supervisors see.
  Nothing is sent to these families.
* ``universal``: everyone else (everyone gets universal information).

No tier triggers any action by itself.

This module is the only place the rule is written: :class:`Ranking` orders a population and
flags it, and the screener (pandas and Spark), the evaluation's precision at capacity (with
its bootstrap), the fairness audit and so the promotion gates all flag through it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from features import InputError
from risk._model import Capacity

#: Tier codes, from the most to the least attention.
TIERS: tuple[str, ...] = ("priority", "support", "universal")

#: Columns :func:`assign_tiers` adds.
TIER_COLUMNS: tuple[str, ...] = ("rank_in_district", "capacity", "flagged", "tier")


class CapacityError(InputError):
    """A capacity or minimum score is not usable (negative, not a whole number, not finite)."""


CapacityLike = Capacity | Mapping[str, int] | int


def resolve_capacity(
    capacity: CapacityLike | None, default: Capacity, *, min_score: float | None = None
) -> Capacity:
    """Turn what a caller passes as capacity into a :class:`Capacity`.

    Parameters
    ----------
    capacity : Capacity, mapping of district to int, int or None
        ``None``: ``default`` (the model's). An int: that capacity in every district. A mapping:
        those districts' capacities, the others from ``default``. A :class:`Capacity`: itself.
    default : Capacity
        The model definition's capacity.
    min_score : float, optional
        Overrides the minimum score (otherwise that of ``capacity`` or ``default``).

    Raises
    ------
    CapacityError
        A capacity that is negative or not a whole number, or a minimum score outside [0, 1].

    Examples
    --------
    >>> from risk._model import Capacity
    >>> resolve_capacity(40, Capacity(default=25, min_score=0.1))
    Capacity(default=40, per_district={}, min_score=0.1)
    >>> resolve_capacity({"shimsky": 3}, Capacity(default=25)).for_district("shimsky")
    3
    """
    if capacity is None:
        resolved = default
    elif isinstance(capacity, Capacity):
        resolved = capacity
    elif isinstance(capacity, Mapping):
        per = {str(k): _count(v, f"capacity[{k!r}]") for k, v in capacity.items()}
        resolved = replace(default, per_district={**dict(default.per_district), **per})
    else:
        resolved = Capacity(
            default=_count(capacity, "capacity"), per_district={}, min_score=default.min_score
        )
    if min_score is not None:
        resolved = replace(resolved, min_score=min_score)
    _count(resolved.default, "capacity default")
    for district, n in resolved.per_district.items():
        _count(n, f"capacity[{district!r}]")
    m = resolved.min_score
    if isinstance(m, bool) or not isinstance(m, int | float) or not (0.0 <= float(m) <= 1.0):
        raise CapacityError(f"min_score must be a probability in [0, 1]; got {m!r}")
    return resolved


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        else:
            raise CapacityError(f"{what} must be a whole number of families; got {value!r}")
    if int(value) < 0:
        raise CapacityError(f"{what} must not be negative; got {value}")
    return int(value)


@dataclass(frozen=True)
class Ranking:
    """A population in the order the flag rule takes it, with what the rule needs to flag it.

    Ranked positions run by district (sorted), then score (highest first), then tie-break key
    (ascending; ``family_id`` in production), then row position. :meth:`flagged_weight` is
    *the* flag rule; every other view (:meth:`flagged`, :func:`flag_mask`, :func:`assign_tiers`,
    precision at capacity and its bootstrap, the fairness audit, the Spark engine) goes
    through it.
    """

    order: NDArray[np.intp]  # row of each ranked position
    group: NDArray[np.intp]  # district code of each ranked position
    group_start: NDArray[np.intp]  # ranked position where each district begins
    capacity: NDArray[np.float64]  # capacity of each district code
    eligible: NDArray[np.bool_]  # score >= min_score, per ranked position
    groups: tuple[Hashable, ...]  # the district of each code

    def flagged_weight(self, w: NDArray[np.float64]) -> NDArray[np.float64]:
        """Weight the rule flags at each ranked position when row ``i`` stands for ``w[:, i]``.

        ``w`` is ``B x n`` in ranked order (``B`` resamples of counts, or one row of ones). Within
        a district the rule flags, in ranked order, up to its capacity in families, and only
        those at or above the minimum score: a row counted ``c`` times takes ``c`` places. With
        ``w`` of ones this is :meth:`flagged`; with bootstrap counts it is the rule applied to the
        resample itself (the same as flagging the rows repeated ``c`` times).
        """
        cum = np.cumsum(w, axis=1)
        before_group = np.hstack([np.zeros((w.shape[0], 1)), cum])[:, self.group_start]
        before = cum - w - before_group[:, self.group]
        inside = np.clip(self.capacity[self.group] - before, 0.0, w)
        # Eligible rows are a prefix of each district (scores descend): this drops the rest.
        return np.where(self.eligible, inside, 0.0)

    def flagged(self) -> NDArray[np.bool_]:
        """Flag of each row (in row order), the rule applied once to the whole population."""
        return self.in_rows(self.flagged_weight(np.ones((1, self.order.size)))[0] > 0.0)

    def in_rows(self, values: NDArray[Any]) -> NDArray[Any]:
        """Put ``values`` given per ranked position back in row order."""
        out = np.empty(self.order.size, dtype=values.dtype)
        out[self.order] = values
        return out

    def rank(self) -> NDArray[np.int64]:
        """Rank of each row within its district (1 = highest score), in row order."""
        return self.in_rows(np.arange(self.order.size) - self.group_start[self.group] + 1)


def rank_population(
    scores: NDArray[np.float64],
    groups: ArrayLike | None,
    tie_break: ArrayLike | None,
    capacity_of: Callable[[Hashable], float],
    min_score: float,
) -> Ranking:
    """Order a population for flagging (see :class:`Ranking`); inputs already validated.

    ``groups`` ``None`` is one district; ``tie_break`` ``None`` leaves equal scores in row order.
    ``capacity_of`` gives each district's capacity; ``min_score`` ``-inf`` flags by rank alone.
    """
    n = scores.shape[0]
    if groups is None:
        codes = np.zeros(n, dtype=np.intp)
        uniques: tuple[Hashable, ...] = (None,)
    else:
        raw, uniq = pd.factorize(np.asarray(groups, dtype=object), sort=True)
        codes, uniques = raw.astype(np.intp), tuple(uniq)
    if tie_break is None:
        tb = np.zeros(n, dtype=np.intp)
    else:
        tb = pd.factorize(np.asarray(tie_break, dtype=object), sort=True)[0].astype(np.intp)
    order = np.lexsort((np.arange(n), tb, -scores, codes)).astype(np.intp)
    group = codes[order]
    return Ranking(
        order=order,
        group=group,
        group_start=np.searchsorted(group, np.arange(len(uniques))).astype(np.intp),
        capacity=np.array([capacity_of(u) for u in uniques], dtype=np.float64),
        eligible=scores[order] >= min_score,
        groups=uniques,
    )


def rank_for_capacity(
    scores: NDArray[np.float64],
    districts: ArrayLike,
    family_ids: ArrayLike | None,
    capacity: Capacity,
) -> Ranking:
    """:func:`rank_population` under a :class:`Capacity`: districts by name, its minimum score."""
    names = np.asarray(districts).astype(str)
    return rank_population(
        scores, names, family_ids, lambda d: capacity.for_district(str(d)), capacity.min_score
    )


def flag_mask(
    scores: ArrayLike,
    districts: ArrayLike,
    family_ids: ArrayLike | None,
    capacity: CapacityLike,
    *,
    min_score: float | None = None,
) -> NDArray[np.bool_]:
    """Decide which families are flagged: the one flag rule of the library.

    Within each district families are ranked by score (highest first; equal scores by
    ``family_id``); a family is flagged when its rank is within the district's capacity **and**
    its score reaches the minimum score. The screener (:func:`assign_tiers`, pandas and Spark),
    the evaluation's precision at capacity, the fairness audit and so the promotion gates all
    flag by this rule.

    Parameters
    ----------
    scores : array-like of float, shape (n,)
        Scores (finite).
    districts : array-like, shape (n,)
        District of each family (compared as strings).
    family_ids : array-like, shape (n,), or None
        Tie-break of equal scores (unique ids). ``None`` leaves ties in row order.
    capacity : Capacity, mapping of district to int, or int
        As for :func:`assign_tiers`: what a mapping or int leaves out comes from ``Capacity()``.
    min_score : float, optional
        Overrides the minimum score of ``capacity``.

    Returns
    -------
    numpy.ndarray of bool, shape (n,)
        True for flagged families. In each district there are ``min(capacity, families with
        score >= min_score)`` of them.

    Raises
    ------
    CapacityError
        A capacity or minimum score is not usable.
    ValueError
        Lengths differ, or a score is missing.

    Examples
    --------
    >>> flag_mask([0.3, 0.5, 0.3, 0.01], ["x", "x", "x", "y"], ["a", "b", "c", "d"],
    ...           Capacity(default=2, min_score=0.05)).tolist()
    [True, True, False, False]
    """
    score = np.asarray(scores, dtype=np.float64)
    names = np.asarray(districts)
    ids = None if family_ids is None else np.asarray(family_ids)
    shapes = [np.shape(a) for a in (score, names, ids) if a is not None]
    if score.ndim != 1 or any(shape != score.shape for shape in shapes):
        raise ValueError(f"scores, districts and family_ids differ in shape: {shapes}")
    if np.isnan(score).any():
        raise ValueError(f"scores has {int(np.isnan(score).sum())} missing score(s)")
    return rank_for_capacity(score, names, ids, _resolve(capacity, min_score)).flagged()


def _resolve(capacity: CapacityLike, min_score: float | None) -> Capacity:
    """Resolve as the screener does: a mapping or int completes ``Capacity()``."""
    base = capacity if isinstance(capacity, Capacity) else Capacity()
    return resolve_capacity(capacity, base, min_score=min_score)


def assign_tiers(
    scores: pd.DataFrame, capacity: CapacityLike, *, min_score: float | None = None
) -> pd.DataFrame:
    """Rank families within their district and assign flags and tiers.

    Parameters
    ----------
    scores : pandas.DataFrame
        Columns ``family_id``, ``district`` and ``score`` (any row order; ids unique).
    capacity : Capacity, mapping of district to int, or int
        Outreach capacity per district for the period. A mapping or an int uses the default
        :class:`Capacity` for everything it does not say (districts left out, minimum score).
    min_score : float, optional
        Overrides the minimum score of ``capacity``.

    Returns
    -------
    pandas.DataFrame
        A copy of ``scores`` (same rows, same order) with ``rank_in_district`` (1 = highest
        score), ``capacity`` (the district's), ``flagged`` and ``tier``. In every district the
        number of flags is ``min(capacity, families with score >= min_score)``.

    Raises
    ------
    CapacityError
        A capacity or minimum score is not usable.
    ValueError
        A column is missing or a ``family_id`` repeats.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"family_id": ["a", "b", "c", "d"],
    ...                       "district": ["x", "x", "x", "y"],
    ...                       "score": [0.3, 0.5, 0.3, 0.01]})
    >>> out = assign_tiers(frame, Capacity(default=1, min_score=0.05))
    >>> print(out[["family_id", "rank_in_district", "flagged", "tier"]].to_string(index=False))
    family_id  rank_in_district  flagged      tier
            a                 2    False   support
            b                 1     True  priority
            c                 3    False   support
            d                 1    False universal
    """
    missing = [c for c in ("family_id", "district", "score") if c not in scores.columns]
    if missing:
        raise ValueError(f"scores lacks columns {', '.join(missing)}")
    ids = scores["family_id"].to_numpy(dtype=str)
    if len(np.unique(ids)) != len(ids):
        dup = scores["family_id"][scores["family_id"].duplicated()].iloc[:5].tolist()
        raise ValueError(f"family_id repeats in scores: {', '.join(map(str, dup))}")
    cap = _resolve(capacity, min_score)
    score = scores["score"].to_numpy(dtype=np.float64)
    if np.isnan(score).any():
        raise ValueError(f"scores has {int(np.isnan(score).sum())} missing score(s)")

    ranking = rank_for_capacity(score, scores["district"].to_numpy(), ids, cap)
    flagged = ranking.flagged()
    eligible = ranking.in_rows(ranking.eligible)
    tier = np.where(flagged, "priority", np.where(eligible, "support", "universal"))

    out = scores.copy()
    out["rank_in_district"] = ranking.rank()
    out["capacity"] = ranking.in_rows(ranking.capacity[ranking.group]).astype(np.int64)
    out["flagged"] = flagged
    out["tier"] = pd.Series(tier, index=scores.index, dtype="str")
    return out
