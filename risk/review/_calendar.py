"""The working calendar deadlines are counted in: weekends, public holidays and moved days off.

Russia's production calendar moves days off: a Saturday can become a working day so that a
Monday between a weekend and a holiday is off. The ``holidays`` package lists both the days off
(public holidays and the substituted days) and the weekend days that are worked
(``weekend_workdays``); a :class:`WorkingCalendar` holds both, so a count of working days matches
the calendar an office keeps.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from risk.review._errors import ReviewError

if TYPE_CHECKING:
    from risk.regions import RegionPack

#: Years a region's calendar covers by default: from this year to two years after today.
FIRST_CALENDAR_YEAR = 2015


def _days(values: Iterable[date]) -> np.ndarray:
    days = np.array(sorted({np.datetime64(d, "D") for d in values}), dtype="datetime64[D]")
    days.setflags(write=False)
    return days


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days are working days: Monday to Friday, minus ``days_off``, plus ``workdays``.

    Parameters
    ----------
    days_off : frozenset of date
        Public holidays and moved days off (those on weekends change nothing).
    workdays : frozenset of date
        Weekend days that are working days (days off moved from them).
    name : str
        What the calendar is, for messages (e.g. ``"RU"``).

    Examples
    --------
    >>> from datetime import date, datetime
    >>> cal = WorkingCalendar(days_off=frozenset({date(2025, 11, 3), date(2025, 11, 4)}),
    ...                       workdays=frozenset({date(2025, 11, 1)}))
    >>> cal.count([datetime(2025, 10, 31, 9)], datetime(2025, 11, 6)).tolist()
    [3]
    >>> WorkingCalendar().count([datetime(2025, 10, 31, 9)], datetime(2025, 11, 6)).tolist()
    [4]
    """

    days_off: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    name: str = "Monday to Friday"

    @classmethod
    def for_country(
        cls,
        country: str,
        subdivision: str | None = None,
        years: Iterable[int] | None = None,
    ) -> WorkingCalendar:
        """Build the calendar of ``country`` (ISO 3166 code) from the ``holidays`` package.

        Parameters
        ----------
        country : str
            Country code, e.g. ``"RU"``.
        subdivision : str, optional
            Subdivision code, where the country's holidays differ by subdivision.
        years : iterable of int, optional
            Years to cover; default from ``FIRST_CALENDAR_YEAR`` to two years after today.
            Outside them the calendar is Monday to Friday.

        Raises
        ------
        ReviewError
            The ``holidays`` package does not know the country or subdivision.

        Examples
        --------
        >>> from datetime import date
        >>> ru = WorkingCalendar.for_country("RU", years=[2025])
        >>> date(2025, 11, 4) in ru.days_off, date(2025, 11, 1) in ru.workdays
        (True, True)
        """
        import holidays

        span = list(years) if years is not None else _default_years()
        try:
            found: Any = holidays.country_holidays(country, subdiv=subdivision, years=span)
        except NotImplementedError as exc:
            raise ReviewError(f"working calendar: {exc}") from None
        label = country if subdivision is None else f"{country}-{subdivision}"
        return cls(
            days_off=frozenset(found.keys()),
            workdays=frozenset(getattr(found, "weekend_workdays", ())),
            name=label,
        )

    @classmethod
    def for_region(cls, pack: RegionPack, years: Iterable[int] | None = None) -> WorkingCalendar:
        """Build the calendar of a region pack's ``[review]`` country and subdivision.

        A pack without a ``[review]`` table counts Monday to Friday.

        Examples
        --------
        >>> from risk.regions import load_region
        >>> WorkingCalendar.for_region(load_region("novgorod"), years=[2026]).name
        'RU'
        """
        review = pack.review
        if review is None:
            return cls()
        return cls.for_country(review.country, review.subdivision, years)

    def count(self, created: Iterable[datetime], now: datetime) -> np.ndarray:
        """Working days from each ``created`` day (counted) to ``now``'s day (not counted)."""
        start = np.asarray(
            pd.Series(list(created)).to_numpy(dtype="datetime64[ns]"), dtype="datetime64[D]"
        )
        end = np.datetime64(now.date() if isinstance(now, datetime) else now, "D")
        off, extra = self._off, self._extra
        n = np.busday_count(start, end, holidays=off)
        if len(extra):
            n = n + (np.searchsorted(extra, end) - np.searchsorted(extra, start))
        return np.asarray(n, dtype="int64")

    # The sorted day arrays np.busday_count takes, built once per calendar (sorting a few
    # hundred numpy dates took longer than the count itself, and every queue page counts).
    @functools.cached_property
    def _off(self) -> np.ndarray:
        return _days(self.days_off)

    @functools.cached_property
    def _extra(self) -> np.ndarray:
        return _days(self.workdays)

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day.

        Examples
        --------
        >>> from datetime import date
        >>> WorkingCalendar().is_working_day(date(2025, 11, 1))
        False
        """
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.days_off

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar({self.name!r}: {len(self.days_off)} days off, "
            f"{len(self.workdays)} weekend workdays)"
        )


def _default_years() -> list[int]:
    return list(range(FIRST_CALENDAR_YEAR, date.today().year + 3))


def as_calendar(holidays: Iterable[date] | WorkingCalendar) -> WorkingCalendar:
    """Return the calendar as given, or Monday to Friday minus the ``holidays`` listed.

    Examples
    --------
    >>> from datetime import date
    >>> as_calendar([date(2025, 1, 1)]).days_off
    frozenset({datetime.date(2025, 1, 1)})
    """
    if isinstance(holidays, WorkingCalendar):
        return holidays
    return WorkingCalendar(days_off=frozenset(holidays))
