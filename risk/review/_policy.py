"""Review policy, stated once: tiers, statuses, who supervises, and the working-day SLA (pure).

The queue (``risk.review``) and the review app both read these; neither keeps a copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import numpy as np
import numpy.typing as npt

from risk._flags import TIERS
from risk.review._calendar import WorkingCalendar, as_calendar

# Roles that see supervisors' views: defined beside the roles themselves, read from here.
from risk.review._users import SUPERVISOR_ROLES as SUPERVISOR_ROLES

#: Tiers in the order the queue lists them (``risk``'s flag tiers, most attention first).
TIER_ORDER: tuple[str, ...] = TIERS
#: Tiers an item of the queue can have: only flagged families are enqueued, and ``risk``'s flag
#: rule gives every flagged family the first tier (``priority``).
QUEUED_TIERS: tuple[str, ...] = TIERS[:1]
#: Statuses of a queue item: waiting for a first look, escalated to a supervisor, decided.
STATUSES: tuple[str, ...] = ("open", "escalated", "decided")
#: Statuses that still await a person's decision (escalated items too: nothing closes by itself).
AWAITING: tuple[str, ...] = ("open", "escalated")
#: Decisions where someone reached out to the family (the combined human and model "flag").
OUTREACH: tuple[str, ...] = ("support_offered", "referred", "family_declined")
#: Working days after which an open item is overdue and escalates to a supervisor.
DEFAULT_SLA_WORKING_DAYS = 10
#: Working days within which a follow-up's first contact with the family is due.
DEFAULT_FIRST_CONTACT_WORKING_DAYS = 3


def working_days(
    created: Iterable[datetime],
    now: datetime,
    holidays: Iterable[date] | WorkingCalendar = (),
) -> np.ndarray:
    """Working days (Monday to Friday, minus ``holidays``) from each ``created`` to ``now``.

    Parameters
    ----------
    created : iterable of datetime
        When each item was enqueued (naive UTC).
    now : datetime
        The clock (naive UTC); only its date counts.
    holidays : iterable of date or WorkingCalendar
        Non-working days besides weekends, or the region's working calendar (which also knows
        weekend days that are worked).

    Returns
    -------
    numpy.ndarray
        One whole number of working days per item.

    Examples
    --------
    >>> from datetime import datetime
    >>> working_days([datetime(2025, 6, 2), datetime(2025, 6, 6, 9)], datetime(2025, 6, 9)).tolist()
    [5, 1]
    """
    return as_calendar(holidays).count(created, now)


def past_sla(elapsed_working_days: npt.ArrayLike, sla_working_days: int) -> np.ndarray:
    """Whether an open item that has waited ``elapsed_working_days`` is overdue: more than the SLA.

    Examples
    --------
    >>> past_sla(np.array([9, 10, 11]), 10).tolist()
    [False, False, True]
    """
    return np.asarray(elapsed_working_days) > sla_working_days


def is_overdue(
    status: npt.ArrayLike, elapsed_working_days: npt.ArrayLike, sla_working_days: int
) -> np.ndarray:
    """Whether items are overdue: escalated ones always, open ones past the SLA, decided never.

    Examples
    --------
    >>> is_overdue(["open", "open", "escalated", "decided"], [3, 11, 0, 30], 10).tolist()
    [False, True, True, False]
    """
    st = np.asarray(status)
    return (st == "escalated") | ((st == "open") & past_sla(elapsed_working_days, sla_working_days))


def overdue_cutoff(
    now: datetime, sla_working_days: int, holidays: Iterable[date] | WorkingCalendar = ()
) -> datetime:
    """Return the moment before which an open item is overdue at ``now`` (naive UTC midnight).

    An item is overdue when more than ``sla_working_days`` working days (as
    :func:`working_days` counts them) separate the day it was enqueued from today; that holds
    exactly for the items enqueued before the returned midnight.

    Examples
    --------
    >>> from datetime import datetime
    >>> friday = datetime(2025, 6, 20, 15)
    >>> overdue_cutoff(friday, 5)
    datetime.datetime(2025, 6, 13, 0, 0)
    >>> working_days([datetime(2025, 6, 12, 23), datetime(2025, 6, 13)], friday).tolist()
    [6, 5]
    """
    calendar = as_calendar(holidays)
    today = np.datetime64(now.date(), "D")
    # Long enough to hold the SLA whatever the days off (a year of them at most in a row).
    span = 7 * sla_working_days // 5 + 14 + 366
    days = today - np.arange(1, span + 1, dtype="int64")
    elapsed = calendar.count(days.astype("datetime64[ns]"), now)
    first_late = days[np.argmax(past_sla(elapsed, sla_working_days))]
    return datetime.combine((first_late + 1).astype(date), datetime.min.time())
