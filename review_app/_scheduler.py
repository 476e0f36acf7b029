"""The escalation sweep on a schedule while the review app is up (APScheduler, in process).

The same sweep as ``risk escalate`` (``ReviewQueue.sweep``): it escalates overdue items and
follow-ups, never closes anything, and is safe next to a cron job running it too, since every
row is escalated by a version-checked update.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from risk.review import (
    DEFAULT_FIRST_CONTACT_WORKING_DAYS,
    DEFAULT_SLA_WORKING_DAYS,
    Escalated,
    ReviewQueue,
    WorkingCalendar,
)

#: Minutes between two sweeps by default.
DEFAULT_EVERY_MINUTES = 5.0
#: The scheduler's job id.
JOB_ID = "escalate-overdue"

_log = logging.getLogger(__name__)


def run_sweep(
    queue: ReviewQueue,
    calendar: WorkingCalendar,
    *,
    sla_working_days: int = DEFAULT_SLA_WORKING_DAYS,
    first_contact_working_days: int = DEFAULT_FIRST_CONTACT_WORKING_DAYS,
    now: datetime | None = None,
) -> list[Escalated]:
    """Run one sweep now and log what it escalated (the scheduled job's body)."""
    done = queue.sweep(
        now or datetime.now(UTC),
        calendar=calendar,
        sla_working_days=sla_working_days,
        first_contact_working_days=first_contact_working_days,
    )
    for e in done:
        _log.info(
            "escalated %s of flag %s (family %s, district %s, %s working days overdue)",
            e.kind,
            e.flag_id,
            e.family_id,
            e.district,
            e.days_overdue,
        )
    return done


def start_escalation(
    queue: ReviewQueue,
    calendar: WorkingCalendar,
    every_minutes: float = DEFAULT_EVERY_MINUTES,
    *,
    sla_working_days: int = DEFAULT_SLA_WORKING_DAYS,
    first_contact_working_days: int = DEFAULT_FIRST_CONTACT_WORKING_DAYS,
) -> Any:
    """Start a background scheduler that runs the sweep every ``every_minutes`` minutes.

    The first sweep runs at once. One sweep at a time (``max_instances=1``); missed runs are
    coalesced into one. Call ``shutdown()`` on the returned scheduler when the app stops.

    Parameters
    ----------
    queue : ReviewQueue
        The review queue.
    calendar : WorkingCalendar
        The region's working calendar.
    every_minutes : float
        Minutes between sweeps (> 0).
    sla_working_days, first_contact_working_days : int
        The region's deadlines.

    Returns
    -------
    apscheduler.schedulers.background.BackgroundScheduler
        The running scheduler; its job has id ``JOB_ID``.
    """
    from apscheduler.schedulers.background import BackgroundScheduler

    if not every_minutes > 0:
        raise ValueError(f"every_minutes must be positive; got {every_minutes}")
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(
        run_sweep,
        "interval",
        minutes=every_minutes,
        id=JOB_ID,
        args=(queue, calendar),
        kwargs={
            "sla_working_days": sla_working_days,
            "first_contact_working_days": first_contact_working_days,
        },
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    return scheduler
