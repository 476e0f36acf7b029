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
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pandas as pd

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
    base = capacity if isinstance(capacity, Capacity) else Capacity()
    cap = resolve_capacity(capacity, base, min_score=min_score)
    districts = scores["district"].to_numpy(dtype=str)
    score = scores["score"].to_numpy(dtype=np.float64)
    if np.isnan(score).any():
        raise ValueError(f"scores has {int(np.isnan(score).sum())} missing score(s)")

    # Sort by district, score descending, family_id: the rank is the position in the district.
    order = np.lexsort((ids, -score, districts))
    sorted_d = districts[order]
    starts = np.r_[True, sorted_d[1:] != sorted_d[:-1]] if len(order) else np.zeros(0, bool)
    group_start = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - group_start + 1

    uniq, inverse = np.unique(districts, return_inverse=True)
    caps = np.array([cap.for_district(str(d)) for d in uniq], dtype=np.int64)[inverse]
    eligible = score >= cap.min_score
    flagged = eligible & (rank <= caps)
    tier = np.where(flagged, "priority", np.where(eligible, "support", "universal"))

    out = scores.copy()
    out["rank_in_district"] = rank
    out["capacity"] = caps
    out["flagged"] = flagged
    out["tier"] = pd.Series(tier, index=scores.index, dtype="str")
    return out
