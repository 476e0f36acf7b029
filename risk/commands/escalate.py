"""The ``risk escalate`` command: sweep overdue items and follow-ups to the supervisors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from risk.commands._common import EXIT_CODES_HELP, review_store, user_errors


def register(app: typer.Typer) -> None:
    """Register ``risk escalate``."""

    @app.command("escalate", epilog=EXIT_CODES_HELP)
    @user_errors
    def escalate(
        store: Annotated[
            str | None,
            typer.Option(
                "--store",
                help="Review store URL (default: $RISK_STORE_URL, else sqlite:///risk-review.db).",
                show_default=False,
            ),
        ] = None,
        region: Annotated[
            str | None,
            typer.Option(
                "--region",
                help="Region pack (name or folder) whose calendar and deadlines apply.",
                show_default="the default region",
            ),
        ] = None,
        now: Annotated[
            str | None,
            typer.Option(
                "--now",
                help="The clock, ISO date or time in UTC (default: now).",
                show_default=False,
            ),
        ] = None,
    ) -> None:
        """Escalate items and follow-ups past their deadlines to the district's supervisor.

        Working days follow the region's production calendar. Idempotent and safe to run from
        cron every few minutes: concurrent runs escalate each row once. Nothing is closed.
        """
        from risk.regions import DEFAULT_REGION, load_region
        from risk.review import StoreUnavailable, WorkingCalendar

        at = _parse_now(now)
        pack = load_region(region or DEFAULT_REGION)
        calendar = WorkingCalendar.for_region(pack)
        kwargs: dict[str, int] = {}
        if pack.review is not None:
            kwargs = {
                "sla_working_days": pack.review.sla_working_days,
                "first_contact_working_days": pack.review.first_contact_working_days,
            }
        with review_store(store) as queue:
            if _missing_sqlite_file(queue.url):
                raise StoreUnavailable(f"no review store at {queue!r}")
            done = queue.sweep(at, calendar=calendar, **kwargs)
        if not done:
            typer.echo("nothing overdue")
            return
        for e in done:
            what = "item" if e.kind == "item" else "follow-up of flag"
            typer.echo(
                f"escalated {what} {e.flag_id}: family {e.family_id}, district {e.district}, "
                f"{e.days_overdue} working day{'s' * (e.days_overdue != 1)} overdue"
            )
        typer.echo(f"{len(done)} escalated ({calendar.name} calendar, region {pack.code})")


def _parse_now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"--now must be an ISO date or time, e.g. 2026-11-30T09:00; got {value!r}"
        ) from None


def _missing_sqlite_file(url: str) -> bool:
    # A cron job with a mistyped path must fail, not sweep a new empty store.
    from pathlib import Path

    import sqlalchemy as sa

    try:
        u = sa.make_url(url)
    except sa.exc.ArgumentError:
        return False
    return (
        u.get_backend_name() == "sqlite"
        and u.database not in (None, "", ":memory:")
        and not Path(u.database).exists()
    )
