"""Turn the record tables into integer arrays once, so that every as-of date reuses them.

Strings are hashed once here (pyarrow's ``index_in`` is several times faster than a pandas
categorical on tens of millions of ids); the builders then work on integer codes with
``numpy.bincount``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features._errors import InputError
from features._records import Records
from features._schema import EVENT_TYPES


class FeatureError(InputError):
    """Inputs the feature builders cannot use: a bad as-of date, lookback or event type.

    Examples
    --------
    >>> from features import FeatureError, Records, build_features
    >>> build_features(Records.empty(), "2025-01-01", lookback_days=0)
    Traceback (most recent call last):
    ...
    features._encode.FeatureError: lookback_days must be a positive number of days; got 0
    """


#: Event type code -> index in this tuple (the vocabulary's order).
TYPE_NAMES: tuple[str, ...] = tuple(EVENT_TYPES)


def codes_of(values: pd.Series, categories: np.ndarray | list[str]) -> np.ndarray:
    """Positions of ``values`` in ``categories`` as int64, ``-1`` where absent or null."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    array = pa.array(values.array if hasattr(values, "array") else values, from_pandas=True)
    value_set = pa.array(np.asarray(categories, dtype=object), type=pa.large_string())
    found = pc.index_in(array, value_set=value_set)
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


#: Day number standing for a missing date: after every as-of date, so it is never "before T".
NO_DAY = np.iinfo(np.int64).max


def to_days(values: pd.Series) -> np.ndarray:
    """Dates as int64 days since 1970-01-01; NaT becomes :data:`NO_DAY`."""
    days = np.array(values.to_numpy(), dtype="datetime64[D]").view(np.int64)
    days[days == np.iinfo(np.int64).min] = NO_DAY  # NaT, in place: no second copy
    return days


def day_of(value: object) -> int:
    """One date as int64 days since 1970-01-01 (a time of day is dropped)."""
    try:
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise FeatureError(f"as_of must be a date; got {value!r}") from exc
    if stamp is pd.NaT or pd.isna(stamp):
        raise FeatureError(f"as_of must be a date; got {value!r}")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return int(np.datetime64(stamp.normalize().date(), "D").astype(np.int64))


def civil(days: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """Year and ``month * 100 + day`` of int day numbers."""
    dates = np.asarray(days, dtype="datetime64[D]")
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    months = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    mday = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    return years, months * 100 + mday


@dataclass(frozen=True)
class Families:
    """Families, members and outcomes as arrays, families sorted by id."""

    ids: pd.Index
    registered: np.ndarray
    reg_year: np.ndarray
    reg_mday: np.ndarray
    m_family: np.ndarray
    m_child: np.ndarray
    m_birth: np.ndarray
    m_birth_year: np.ndarray
    m_birth_mday: np.ndarray
    m_disability: np.ndarray
    o_family: np.ndarray
    o_day: np.ndarray

    @property
    def n(self) -> int:
        """Number of families."""
        return len(self.ids)


@dataclass(frozen=True)
class Events:
    """Events in the lookback-able past as arrays, sorted by day (when asked)."""

    family: np.ndarray
    type: np.ndarray
    day: np.ndarray
    value: np.ndarray
    sorted_by_day: bool


def encode_families(records: Records) -> Families:
    """Encode the families, members and outcomes tables."""
    fam = records.families
    ids = pd.Index(pd.unique(fam["family_id"].to_numpy()), dtype="str").sort_values()
    ids.name = "family_id"
    order = codes_of(fam["family_id"], ids.to_numpy())
    registered = np.full(len(ids), NO_DAY, dtype=np.int64)
    if len(fam):
        # A duplicated id (invalid records) keeps its earliest registration.
        np.minimum.at(registered, order, to_days(fam["registered_on"]))
    reg_year, reg_mday = civil(np.where(registered == NO_DAY, 0, registered))

    mem = records.members
    m_family = codes_of(mem["family_id"], ids.to_numpy())
    keep = m_family >= 0
    m_family = m_family[keep]
    m_child = (mem["role"].to_numpy(dtype=object) == "child")[keep]
    m_birth = to_days(mem["birth_date"])[keep]
    valid_birth = m_birth != NO_DAY
    m_birth_year, m_birth_mday = civil(np.where(valid_birth, m_birth, 0))
    m_disability = mem["disability"].to_numpy(dtype=bool, na_value=False)[keep]

    out = records.outcomes
    o_family = codes_of(out["family_id"], ids.to_numpy())
    o_day = to_days(out["outcome_date"])
    keep_o = o_family >= 0
    return Families(
        ids=ids,
        registered=registered,
        reg_year=reg_year,
        reg_mday=reg_mday,
        m_family=m_family,
        m_child=m_child,
        m_birth=m_birth,
        m_birth_year=m_birth_year,
        m_birth_mday=m_birth_mday,
        m_disability=m_disability,
        o_family=o_family[keep_o],
        o_day=o_day[keep_o],
    )


def encode_events(
    records: Records,
    families: Families,
    *,
    exclude_events: Iterable[str] = (),
    first_day: int | None = None,
    last_day: int | None = None,
    sort: bool = False,
    type_names: tuple[str, ...] = TYPE_NAMES,
) -> Events:
    """Encode the events table: family and type codes, day numbers and values.

    Rows of unknown families, excluded (disputed) rows and rows outside ``[first_day,
    last_day)`` are dropped here, so later steps never see them. Type codes are positions in
    ``type_names`` (a vocabulary's names; the built-in ones by default).
    """
    ev = records.events
    types = codes_of(ev["event_type"], list(type_names))
    if (types < 0).any():
        bad = ev["event_type"][types < 0]
        shown = sorted({str(v) for v in bad.unique()[:5]})
        raise FeatureError(
            f"events.event_type: {int((types < 0).sum())} rows have unknown event types "
            f"{shown}; run Records.validate() first"
        )
    family = codes_of(ev["family_id"], families.ids.to_numpy())
    day = to_days(ev["event_date"])
    keep = family >= 0
    if first_day is not None:
        keep &= day >= first_day
    if last_day is not None:
        keep &= day < last_day
    excluded = _as_strings(exclude_events)
    if excluded and len(ev):
        ids = pa.array(ev["event_id"].array, from_pandas=True)
        hit = pc.is_in(ids, value_set=pa.array(excluded, type=pa.large_string()))
        keep &= ~np.asarray(hit.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    value = ev["value"].to_numpy(dtype="float64", na_value=np.nan)
    if not keep.all():
        family, types, day, value = family[keep], types[keep], day[keep], value[keep]
    del keep
    value = np.nan_to_num(value, copy=not value.flags.writeable, nan=0.0)
    if sort:
        order = np.argsort(day, kind="stable")
        family, types, day, value = family[order], types[order], day[order], value[order]
    return Events(family, types, day, value, sort)


def _as_strings(exclude_events: Iterable[str]) -> list[str]:
    if isinstance(exclude_events, str):
        raise FeatureError(
            "exclude_events must be a collection of event ids, not one string "
            f"{exclude_events!r}; write exclude_events=[{exclude_events!r}]"
        )
    return sorted({str(e) for e in exclude_events})
