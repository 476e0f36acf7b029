"""Feature builders: records -> one row per family in the screening population, as of a date.

Every step is vectorised over all families: ids and event types become integer codes once
(``features/_encode.py``), then counts, recencies and sums are ``numpy.bincount`` and
``numpy.maximum.at`` over ``family * n_types + type`` keys. No Python loop runs per family;
the only loop is over as-of dates in :func:`build_snapshots`.

Conventions (also in ``docs/features.md``):

* A record is seen at as-of date ``T`` when ``T - lookback_days <= event_date < T``; its age is
  ``T - event_date`` days (1 for the day before). A window of ``w`` days holds ages ``1..w``.
* Ages of people are whole years: a person born on ``b`` is ``n`` at ``T`` once ``T`` has
  reached the ``n``-th anniversary of ``b`` (someone born on 29 February turns a year older on
  1 March in common years).
* Value sums are added up in hundredths (kopecks, hundredths of a day), which float64 adds
  exactly, so a sum does not depend on the order of the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from features._encode import (
    Events,
    Families,
    FeatureError,
    civil,
    day_of,
    encode_events,
    encode_families,
)
from features._records import Records
from features._registry import (
    CONTEXT_EVENT_TYPES,
    DEFAULT_LOOKBACK_DAYS,
    SUM_WINDOWS,
    TREND_BEFORE,
    TREND_RECENT,
    WINDOWS,
    FeatureSpec,
    feature_specs,
)
from features._schema import SOURCES
from features._vocabulary import Vocabulary

#: Outcomes in the year before the as-of date take a family out of the screening population.
OUTCOME_EXCLUSION_DAYS = 365

#: Children are people with the role "child" younger than this, in whole years.
ADULT_AGE = 18

#: Age edges (in days) of the count buckets: every window and trend boundary is one of them.
_EDGES = np.array(sorted({*WINDOWS, TREND_RECENT, TREND_RECENT + TREND_BEFORE, 365}))
_N_BUCKETS = len(_EDGES) + 1
#: Built-in types whose values are added up (utility debt is not: each report states the debt).
_SUMMED = ("school_absence", "kindergarten_absence", "material_aid")


@dataclass(frozen=True)
class _Plan:
    """What the builders make for one vocabulary: type codes, and which columns come from where."""

    names: tuple[str, ...]
    counted: tuple[tuple[str, int], ...]
    #: Event type code -> position among the summed types (-1: its values are not summed).
    sum_index: np.ndarray
    #: (feature name, position among the summed types, window in days).
    sum_columns: tuple[tuple[str, int, int], ...]
    #: (source, codes of its types) for the ``has_<source>_records`` flags.
    source_types: tuple[tuple[str, tuple[int, ...]], ...]
    specs: Mapping[str, FeatureSpec]

    @property
    def k(self) -> int:
        """Number of event types."""
        return len(self.names)

    def code(self, name: str) -> int:
        """Code of the event type ``name``."""
        return self.names.index(name)


@lru_cache(maxsize=16)
def _plan(vocabulary: Vocabulary) -> _Plan:
    types = vocabulary.event_types
    names = tuple(types)
    summed = _SUMMED + tuple(e.name for e in vocabulary.extra if e.unit in SUM_WINDOWS)
    sum_columns = tuple(
        (f"{name}_{types[name].unit}_{w}d", i, w)
        for i, name in enumerate(summed)
        for w in SUM_WINDOWS[types[name].unit]
    )
    return _Plan(
        names=names,
        counted=tuple((n, i) for i, n in enumerate(names) if n not in CONTEXT_EVENT_TYPES),
        sum_index=np.array([summed.index(n) if n in summed else -1 for n in names], dtype=int),
        sum_columns=sum_columns,
        source_types=tuple(
            (s, tuple(i for i, e in enumerate(types.values()) if e.source == s)) for s in SOURCES
        ),
        specs=feature_specs(vocabulary),
    )


def _check_lookback(lookback_days: int) -> int:
    if isinstance(lookback_days, bool) or not isinstance(lookback_days, int | np.integer):
        raise FeatureError(f"lookback_days must be an integer; got {lookback_days!r}")
    if lookback_days <= 0:
        raise FeatureError(f"lookback_days must be a positive number of days; got {lookback_days}")
    return int(lookback_days)


def _age_years(fams: Families, t: int) -> np.ndarray:
    t_year, t_mday = civil(t)
    return t_year - fams.m_birth_year - (t_mday < fams.m_birth_mday)


def _population(fams: Families, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean mask of families in the population, member child mask and member ages."""
    ages = _age_years(fams, t)
    child = fams.m_child & (fams.m_birth < t) & (ages < ADULT_AGE)
    n_children = np.bincount(fams.m_family[child], minlength=fams.n)
    recent = (fams.o_day >= t - OUTCOME_EXCLUSION_DAYS) & (fams.o_day < t)
    had_outcome = np.bincount(fams.o_family[recent], minlength=fams.n) > 0
    in_pop = (fams.registered < t) & (n_children > 0) & ~had_outcome
    return in_pop, child, ages


def _composition(
    fams: Families, t: int, pop: np.ndarray, child: np.ndarray, ages: np.ndarray
) -> dict[str, np.ndarray]:
    n = fams.n
    n_children = np.bincount(fams.m_family[child], minlength=n)
    youngest = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(youngest, fams.m_family[child], ages[child])
    youngest[n_children == 0] = 0
    adult = ~fams.m_child & (fams.m_birth < t)
    n_adults = np.bincount(fams.m_family[adult], minlength=n)
    disabled_child = np.bincount(fams.m_family[child & fams.m_disability], minlength=n) > 0
    disabled_parent = np.bincount(fams.m_family[adult & fams.m_disability], minlength=n) > 0
    t_year, t_mday = civil(t)
    t_month = t_mday // 100
    months = (
        (t_year - fams.reg_year) * 12
        + (t_month - fams.reg_mday // 100)
        - ((t_mday % 100) < (fams.reg_mday % 100))
    )
    cols = {
        "n_children": n_children,
        "youngest_child_age_years": youngest,
        "single_parent": (n_adults == 1).astype(np.int64),
        "large_family": (n_children >= 3).astype(np.int64),
        "months_since_registration": months,
        "disabled_child": disabled_child.astype(np.int64),
        "disabled_parent": disabled_parent.astype(np.int64),
    }
    return {k: np.asarray(v, dtype=np.int64)[pop] for k, v in cols.items()}


def _window(events: Events, t: int, lookback: int) -> Events:
    lo_day = t - lookback
    if events.sorted_by_day:
        lo, hi = np.searchsorted(events.day, [lo_day, t], side="left")
        sl = slice(int(lo), int(hi))
        return Events(events.family[sl], events.type[sl], events.day[sl], events.value[sl], True)
    keep = (events.day >= lo_day) & (events.day < t)
    if keep.all():  # build_features encodes only the window: no copy needed
        return events
    return Events(
        events.family[keep], events.type[keep], events.day[keep], events.value[keep], False
    )


def _event_features(
    plan: _Plan, events: Events, t: int, lookback: int, pop_code: np.ndarray, n_pop: int
) -> dict[str, np.ndarray]:
    ev = _window(events, t, lookback)
    code = pop_code[ev.family]
    mine = code >= 0
    if not mine.all():
        code = code[mine]
        ev = Events(code, ev.type[mine], ev.day[mine], ev.value[mine], ev.sorted_by_day)
    del mine
    age = t - ev.day
    bucket = np.searchsorted(_EDGES, age, side="left")
    n_types = plan.k
    key = code * n_types
    key += ev.type
    # Bucket-major layout: the running sum over buckets adds whole contiguous planes.
    size = n_pop * n_types
    flat = bucket * size
    flat += key
    counts = np.bincount(flat, minlength=_N_BUCKETS * size)
    del flat
    within = counts.reshape(_N_BUCKETS, n_pop, n_types)
    np.cumsum(within, axis=0, out=within)  # in place: no second array of this size
    edge = {int(e): i for i, e in enumerate(_EDGES)}

    latest = np.full(size, t - lookback - 1, dtype=np.int64)
    np.maximum.at(latest, key, ev.day)
    days_since = (t - latest).reshape(n_pop, n_types)

    cols: dict[str, np.ndarray] = {}
    for name, k in plan.counted:
        for w in WINDOWS:
            cols[f"{name}_n_{w}d"] = within[edge[w], :, k]
        cols[f"{name}_days_since"] = days_since[:, k]
        recent = within[edge[TREND_RECENT], :, k]
        before = within[edge[TREND_RECENT + TREND_BEFORE], :, k] - recent
        cols[f"{name}_trend"] = recent - before * (TREND_RECENT / TREND_BEFORE)

    # Sums in hundredths: integers that float64 adds exactly, whatever the row order.
    s_type = plan.sum_index[ev.type]
    summed = s_type >= 0
    n_sum = int(plan.sum_index.max()) + 1
    s_key = bucket[summed] * (n_pop * n_sum) + code[summed] * n_sum + s_type[summed]
    hundredths = np.round(ev.value[summed] * 100.0)
    sums: np.ndarray = np.bincount(
        s_key, weights=hundredths, minlength=_N_BUCKETS * n_pop * n_sum
    ).astype(np.float64, copy=False)  # an empty input gives int64
    sums_within = sums.reshape(_N_BUCKETS, n_pop, n_sum)
    np.cumsum(sums_within, axis=0, out=sums_within)
    sums_within /= 100.0
    for feature, i, w in plan.sum_columns:
        cols[feature] = sums_within[edge[w], :, i]

    debt = (ev.type == plan.code("utility_debt")) & (age <= 365)
    d_code, d_day, d_value = code[debt], ev.day[debt], ev.value[debt]
    last_day = np.full(n_pop, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last_day, d_code, d_day)
    on_last = d_day == last_day[d_code]
    latest_debt = np.zeros(n_pop)
    # Two reports on the same latest day: the larger amount counts, whatever the row order.
    np.maximum.at(latest_debt, d_code[on_last], d_value[on_last])
    max_debt = np.zeros(n_pop)
    np.maximum.at(max_debt, d_code, d_value)
    cols["utility_debt_roubles_latest"] = latest_debt
    cols["utility_debt_roubles_max_365d"] = max_debt

    low_income = plan.code("low_income_status")
    cols["low_income"] = (within[edge[365], :, low_income] > 0).astype(np.int64)
    total = within[-1]
    for source, idx in plan.source_types:
        cols[f"has_{source}_records"] = (total[:, list(idx)].sum(axis=1) > 0).astype(np.int64)
    return cols


def _columns(
    plan: _Plan, fams: Families, t: int, events: Events, lookback: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Family codes of the population at ``t`` and every feature column, in registry order."""
    in_pop, child, ages = _population(fams, t)
    n_pop = int(in_pop.sum())
    pop_code = np.full(fams.n, -1, dtype=np.int64)
    pop_code[in_pop] = np.arange(n_pop)
    cols = _composition(fams, t, in_pop, child, ages)
    cols.update(_event_features(plan, events, t, lookback, pop_code, n_pop))
    data = {name: np.asarray(cols[name], dtype=spec.dtype) for name, spec in plan.specs.items()}
    return np.flatnonzero(in_pop), data


def _frame(plan: _Plan, fams: Families, t: int, events: Events, lookback: int) -> pd.DataFrame:
    members, data = _columns(plan, fams, t, events, lookback)
    index = pd.Index(fams.ids[members], name="family_id")
    return pd.DataFrame(data, index=index, copy=False)


def screening_population(records: Records, as_of: object) -> pd.Index:
    """Family ids in the screening population at ``as_of``, sorted.

    A family is in it when it was registered before ``as_of``, has a member with the role
    ``child`` born before ``as_of`` and under 18 then (whole years), and had no outcome dated
    in the 365 days before ``as_of``.

    Parameters
    ----------
    records : Records
        Validated records.
    as_of : date-like
        The as-of date ``T``.

    Returns
    -------
    pandas.Index
        Family ids (name ``family_id``).

    Examples
    --------
    >>> import pandas as pd
    >>> from features import Records, screening_population
    >>> recs = Records.empty().replace(
    ...     families=pd.DataFrame({"family_id": ["a", "b"], "district": ["d", "d"],
    ...         "settlement": ["urban", "urban"],
    ...         "registered_on": pd.to_datetime(["2020-01-01", "2020-01-01"]).as_unit("s")}),
    ...     members=pd.DataFrame({"member_id": ["m1", "m2"], "family_id": ["a", "b"],
    ...         "role": ["child", "mother"],
    ...         "birth_date": pd.to_datetime(["2015-05-05", "1990-01-01"]).as_unit("s"),
    ...         "sex": ["F", "F"], "disability": [False, False]}))
    >>> list(screening_population(recs, "2024-01-01"))
    ['a']
    """
    fams = encode_families(records)
    in_pop, _, _ = _population(fams, day_of(as_of))
    return pd.Index(fams.ids[in_pop], name="family_id")


def build_features(
    records: Records,
    as_of: object,
    *,
    exclude_events: Iterable[str] = (),
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    vocabulary: Vocabulary | None = None,
) -> pd.DataFrame:
    """Build every registered feature for the screening population at ``as_of``.

    Parameters
    ----------
    records : Records
        Validated records (``Records.validate()``; ``load_records`` validates). Events and
        members of families missing from ``records.families`` are ignored.
    as_of : date-like
        The as-of date ``T``. Only events dated ``T - lookback_days <= event_date < T`` are
        read; outcomes are never features (one in the 365 days before ``T`` only takes its
        family out of the population).
    exclude_events : iterable of str, optional
        ``event_id`` values of disputed records, dropped before anything is computed.
    lookback_days : int, default 1095
        Bounded lookback: older records never influence a feature.
    vocabulary : Vocabulary, optional
        The event types the records may hold (``features.load_vocabulary``); default the
        built-in vocabulary. A vocabulary's own types get the signals of a built-in type.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``family_id`` (sorted), one row per family in the population; columns are
        ``list(feature_specs(vocabulary))`` in order (:data:`FEATURES` by default),
        ``int64`` or ``float64``, never NaN (each feature's ``fill`` stands for "no data").

    Raises
    ------
    FeatureError
        ``as_of`` is not a date, ``lookback_days`` is not a positive integer, an event type is
        unknown, or ``exclude_events`` is a single string.

    Examples
    --------
    >>> import pandas as pd
    >>> from features import FEATURES, Records, build_features
    >>> day = lambda *d: pd.to_datetime(list(d)).as_unit("s")
    >>> recs = Records.empty().replace(
    ...     families=pd.DataFrame({"family_id": ["a"], "district": ["d"],
    ...         "settlement": ["rural"], "registered_on": day("2020-01-01")}),
    ...     members=pd.DataFrame({"member_id": ["m1"], "family_id": ["a"], "role": ["child"],
    ...         "birth_date": day("2015-05-05"), "sex": ["F"], "disability": [False]}),
    ...     events=pd.DataFrame({"event_id": ["e1"], "family_id": ["a"], "member_id": ["m1"],
    ...         "source": ["education"], "event_type": ["school_absence"],
    ...         "event_date": day("2023-12-01"), "value": [6.0]}))
    >>> x = build_features(recs, "2024-01-01")
    >>> x.loc["a", ["school_absence_n_90d", "school_absence_days_since",
    ...             "school_absence_days_90d", "youngest_child_age_years"]].tolist()
    [1.0, 31.0, 6.0, 8.0]
    >>> list(x.columns) == list(FEATURES)
    True
    """
    lookback = _check_lookback(lookback_days)
    t = day_of(as_of)
    plan = _plan(vocabulary or Vocabulary.builtin())
    fams = encode_families(records)
    events = encode_events(
        records,
        fams,
        exclude_events=exclude_events,
        first_day=t - lookback,
        last_day=t,
        type_names=plan.names,
    )
    return _frame(plan, fams, t, events, lookback)


def build_snapshots(
    records: Records,
    as_of_dates: Sequence[object] | pd.DatetimeIndex,
    *,
    exclude_events: Iterable[str] = (),
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    vocabulary: Vocabulary | None = None,
) -> pd.DataFrame:
    """Build the features at many as-of dates, sharing the work that does not depend on the date.

    The tables are encoded to integer codes and the events sorted by date once; each date then
    takes its lookback as a slice of the sorted events. Each date's rows equal
    ``build_features(records, date, ...)``.

    Parameters
    ----------
    records : Records
        Validated records.
    as_of_dates : sequence of date-like
        The as-of dates; duplicates are built once, output is in date order.
    exclude_events, lookback_days, vocabulary
        As in :func:`build_features`.

    Returns
    -------
    pandas.DataFrame
        Indexed by (``as_of``, ``family_id``), columns as in :func:`build_features`.

    Examples
    --------
    >>> from features import Records, build_snapshots
    >>> build_snapshots(Records.empty(), ["2024-01-01", "2023-01-01"]).index.names
    FrozenList(['as_of', 'family_id'])
    """
    lookback = _check_lookback(lookback_days)
    days = sorted({day_of(d) for d in as_of_dates})
    plan = _plan(vocabulary or Vocabulary.builtin())
    fams = encode_families(records)
    if days:
        events = encode_events(
            records,
            fams,
            exclude_events=exclude_events,
            first_day=days[0] - lookback,
            last_day=days[-1],
            sort=len(days) > 1,
            type_names=plan.names,
        )
    else:
        return _empty_snapshots(plan)
    # Fill preallocated columns date by date, so that memory holds the result once (not
    # once per date and again concatenated), and index by integer codes, not strings.
    sizes = [int(_population(fams, t)[0].sum()) for t in days]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    data = {name: np.empty(offsets[-1], dtype=spec.dtype) for name, spec in plan.specs.items()}
    members = np.empty(offsets[-1], dtype=np.int64)
    for i, t in enumerate(days):
        part = slice(int(offsets[i]), int(offsets[i + 1]))
        members[part], cols = _columns(plan, fams, t, events, lookback)
        for name, values in cols.items():
            data[name][part] = values
        del cols
    stamps = np.array(days, dtype="datetime64[D]").astype("datetime64[s]")
    levels: list[Any] = [pd.DatetimeIndex(stamps), fams.ids]
    codes: list[Any] = [np.repeat(np.arange(len(days)), sizes), members]
    index = pd.MultiIndex(
        levels=levels,
        codes=codes,
        names=["as_of", "family_id"],
        verify_integrity=False,
    )
    return pd.DataFrame(data, index=index, copy=False)


def _empty_snapshots(plan: _Plan) -> pd.DataFrame:
    index = pd.MultiIndex.from_arrays(
        [pd.DatetimeIndex([], dtype="datetime64[s]"), pd.Index([], dtype="str")],
        names=["as_of", "family_id"],
    )
    data = {name: np.zeros(0, dtype=spec.dtype) for name, spec in plan.specs.items()}
    return pd.DataFrame(data, index=index)
