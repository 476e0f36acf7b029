"""Record volumes per source and district: the counts the input-integrity check compares.

Pure functions of the records; nothing here reads a file or names a family in its output.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from features import SOURCES, Records

#: Columns of :func:`window_volumes`.
WINDOW_COLUMNS: tuple[str, ...] = ("district", "source", "families", "events", "per_family")


def _events_with_district(records: Records) -> pd.DataFrame:
    fams = records.families.loc[:, ["family_id", "district"]].astype({"family_id": str})
    events = records.events.loc[:, ["family_id", "source", "event_date"]]
    events = events.astype({"family_id": str})
    return events.merge(fams, on="family_id", how="inner")


def window_bounds(as_of: object, lookback_days: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of the lookback window before ``as_of`` (both included).

    Examples
    --------
    >>> [str(d.date()) for d in window_bounds("2024-07-01", 30)]
    ['2024-06-01', '2024-06-30']
    """
    t = pd.Timestamp(as_of).normalize()  # type: ignore[arg-type]
    return t - pd.Timedelta(days=lookback_days), t - pd.Timedelta(days=1)


def window_volumes(
    records: Records, as_of: object, families: Iterable[str], lookback_days: int
) -> pd.DataFrame:
    """Events per source and district in the lookback window, and per family of the population.

    Parameters
    ----------
    records : Records
        Validated records.
    as_of : date-like
        The screening date; events dated ``as_of - lookback_days <= date < as_of`` count.
    families : iterable of str
        The screening population: only their events count, and ``families`` is their number
        per district.
    lookback_days : int
        The model's lookback.

    Returns
    -------
    pandas.DataFrame
        One row per (district, source) for every district of the population and every source
        of :data:`features.SOURCES`, in the columns of :data:`WINDOW_COLUMNS`.
    """
    first, last = window_bounds(as_of, lookback_days)
    population = pd.Index(pd.Index(families).astype(str).unique())
    fams = records.families.astype({"family_id": str})
    fams = fams.loc[fams["family_id"].isin(population), ["family_id", "district"]]
    n_families = fams.groupby("district").size()
    events = _events_with_district(records)
    dates = events["event_date"]
    events = events.loc[events["family_id"].isin(population) & (dates >= first) & (dates <= last)]
    counts = events.groupby(["district", "source"]).size()
    grid = pd.MultiIndex.from_product(
        [sorted(n_families.index.astype(str)), list(SOURCES)], names=["district", "source"]
    )
    out = pd.DataFrame(index=grid).reset_index()
    out["families"] = n_families.reindex(out["district"]).to_numpy(dtype=np.int64)
    out["events"] = counts.reindex(grid, fill_value=0).to_numpy(dtype=np.int64)
    out["per_family"] = out["events"] / out["families"].clip(lower=1)
    return out.loc[:, list(WINDOW_COLUMNS)]


def monthly_volumes(records: Records, as_of: object, months: int) -> pd.DataFrame:
    """Events per district, source and calendar month, for the ``months`` months before ``as_of``.

    The month holding ``as_of`` is left out: records dated on or after ``as_of`` are not read,
    so it is never complete.

    Returns
    -------
    pandas.DataFrame
        Indexed by (district, source) for every district of ``records.families`` and every source;
        one column per month (``pandas.Period``), oldest first, counts as int64.

    Examples
    --------
    >>> from features import Records
    >>> list(monthly_volumes(Records.empty(), "2024-07-15", 2).columns.astype(str))
    ['2024-05', '2024-06']
    """
    end = pd.Timestamp(as_of).normalize().to_period("M")  # type: ignore[arg-type]
    last = end - 1  # the month before as_of's own month is the last whole one
    periods = pd.period_range(end=last, periods=months, freq="M")
    events = _events_with_district(records)
    month = events["event_date"].dt.to_period("M")
    keep = (month >= periods[0]) & (month <= periods[-1])
    counts = (
        events.loc[keep]
        .assign(month=month[keep])
        .groupby(["district", "source", "month"])
        .size()
        .unstack("month")
    )
    districts = sorted(records.families["district"].astype(str).unique())
    grid = pd.MultiIndex.from_product([districts, list(SOURCES)], names=["district", "source"])
    return counts.reindex(index=grid, columns=periods, fill_value=0).fillna(0).astype(np.int64)
