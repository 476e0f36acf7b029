"""The escalation sweep on the region's calendar, concurrent sweeps and ``risk escalate``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner

from risk.commands import escalate
from risk.regions import load_region
from risk.review import ReviewQueue, WorkingCalendar, overdue_cutoff, working_days
from risk.review import _models as m
from tests.risk.review.review_fakes import make_screening

PASSWORD = "correct horse battery"
RATIONALE = "Spoke with the mother; she asked for help with the school fees."
#: Russia's 2025-2026 calendar: 3-4 November off (1 November, a Saturday, worked), and the New
#: Year holidays from 31 December 2025 to 11 January 2026.
RU = WorkingCalendar.for_country("RU", years=[2025, 2026])
WEEKDAYS = WorkingCalendar()


@pytest.fixture
def q(store_url: str) -> Iterator[ReviewQueue]:
    queue = ReviewQueue(store_url)
    queue.add_user("anna", PASSWORD, "specialist", ["north", "south", "east"])
    yield queue
    queue.close()


def _enqueued_on(q: ReviewQueue, days: list[datetime]) -> list[int]:
    """Enqueue one item per day and date each as enqueued then; return their flag ids."""
    q.enqueue(make_screening(len(days), len(days)), "run-1")
    ids = sorted(int(i) for i in q.items()["flag_id"])
    with q._engine.begin() as conn:
        for flag_id, day in zip(ids, days, strict=True):
            conn.execute(
                sa.update(m.flags).where(m.flags.c.flag_id == flag_id).values(created_at=day)
            )
    return ids


def _statuses(q: ReviewQueue) -> dict[int, str]:
    items = q.items()
    return dict(zip(items["flag_id"].astype(int), items["status"], strict=True))


# -- the calendar -----------------------------------------------------------------------------


def test_the_russian_calendar_knows_moved_days_off_and_worked_saturdays() -> None:
    assert {date(2025, 11, 3), date(2025, 11, 4), date(2025, 12, 31)} <= RU.days_off
    assert date(2025, 11, 1) in RU.workdays and RU.is_working_day(date(2025, 11, 1))
    thursday = datetime(2025, 10, 30, 9)
    # Thu, Fri, the worked Saturday; Monday and Tuesday off.
    assert working_days([thursday], datetime(2025, 11, 5), RU).tolist() == [3]
    assert working_days([thursday], datetime(2025, 11, 5), WEEKDAYS).tolist() == [4]
    new_year = datetime(2025, 12, 29, 9)
    assert working_days([new_year], datetime(2026, 1, 12), RU).tolist() == [2]
    assert working_days([new_year], datetime(2026, 1, 12)).tolist() == [10]


def test_a_calendar_counts_alike_every_time_it_is_asked() -> None:
    # The sorted days off are built once per calendar: later counts, other calendars and
    # equality are unaffected, and nobody can change the days a calendar counts with.
    created = [datetime(2025, 10, 30, 9), datetime(2025, 12, 29, 9)]
    first = RU.count(created, datetime(2026, 1, 12)).tolist()
    assert WEEKDAYS.count(created, datetime(2026, 1, 12)).tolist() == [52, 10]
    assert RU.count(created, datetime(2026, 1, 12)).tolist() == first == [43, 2]
    assert RU.count(created, datetime(2025, 11, 5)).tolist() == [3, -38]
    fresh = WorkingCalendar.for_country("RU", years=[2025, 2026])
    assert fresh == RU and hash(fresh) == hash(RU)
    with pytest.raises(ValueError, match="read-only"):
        RU._off[0] = RU._off[1]


@pytest.mark.parametrize("now", [datetime(2025, 11, 5), datetime(2026, 1, 12, 8)])
@pytest.mark.parametrize("sla", [1, 3, 10])
def test_the_overdue_cutoff_agrees_with_the_working_day_count(now: datetime, sla: int) -> None:
    cutoff = overdue_cutoff(now, sla, RU)
    days = [datetime.combine(date.fromordinal(now.toordinal() - k), datetime.min.time())
            for k in range(1, 60)]  # fmt: skip
    late = working_days(days, now, RU) > sla
    assert all(late[i] == (d < cutoff) for i, d in enumerate(days))


def test_a_region_pack_gives_the_calendar_and_deadlines() -> None:
    pack = load_region("novgorod")
    assert pack.review is not None and pack.review.country == "RU"
    assert (pack.review.sla_working_days, pack.review.first_contact_working_days) == (10, 3)
    assert WorkingCalendar.for_region(pack, years=[2025]) == WorkingCalendar.for_country(
        "RU", years=[2025]
    )


# -- the sweep --------------------------------------------------------------------------------


def test_the_sweep_escalates_exactly_the_overdue_items_around_unity_day(q: ReviewQueue) -> None:
    monday, thursday, wednesday = (
        datetime(2025, 10, 27, 10),
        datetime(2025, 10, 30, 10),
        datetime(2025, 11, 5, 10),
    )
    early, before_holiday, after = _enqueued_on(q, [monday, thursday, wednesday])
    now = datetime(2025, 11, 5, 15)
    # With the holidays counted only the Monday item is past 3 working days ...
    assert [e.flag_id for e in q.sweep(now, calendar=RU, sla_working_days=3)] == [early]
    assert _statuses(q) == {early: "escalated", before_holiday: "open", after: "open"}
    # ... a bare Monday-to-Friday count would have escalated the Thursday one too.
    assert q.escalate_overdue(now, sla_working_days=3, holidays=WEEKDAYS) == [before_holiday]
    assert q.sweep(now, calendar=RU, sla_working_days=3) == []  # idempotent


def test_the_sweep_counts_the_new_year_holidays_and_never_closes(q: ReviewQueue) -> None:
    december = datetime(2025, 12, 29, 10)
    first, second = _enqueued_on(q, [december, december])
    q.record_decision(second, "anna", "no_outreach_needed", RATIONALE, agrees_with_model=False)
    assert q.sweep(datetime(2026, 1, 12, 9), calendar=RU, sla_working_days=3) == []
    done = q.sweep(datetime(2026, 1, 14, 9), calendar=RU, sla_working_days=3)
    assert [(e.kind, e.flag_id, e.days_overdue) for e in done] == [("item", first, 1)]
    for later in (datetime(2026, 3, 1), datetime(2027, 1, 1)):
        assert q.sweep(later, calendar=RU, sla_working_days=3) == []
    assert _statuses(q) == {first: "escalated", second: "decided"}
    entry = q.audit_log().iloc[-1]
    assert entry["action"] == "escalate" and entry["details"]["calendar"] == "RU"


def test_concurrent_sweeps_escalate_each_item_once(store_url: str) -> None:
    setup = ReviewQueue(store_url)
    days = [datetime(2025, 10, 1, 9)] * 12
    ids = _enqueued_on(setup, days)
    queues = [ReviewQueue(store_url) for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list[list[int]] = [[], []]

    def run(i: int) -> None:
        barrier.wait()
        results[i] = [e.flag_id for e in queues[i].sweep(datetime(2025, 11, 30), calendar=RU)]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results[0] + results[1]) == ids
    assert setup.audit_log()["action"].tolist().count("escalate") == len(ids)
    assert setup.verify_audit_log().ok
    for queue in (setup, *queues):
        queue.close()


# -- risk escalate ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Group, so that the command is called by name."""

    escalate.register(app)
    return app


def test_risk_escalate_prints_what_it_escalated_then_nothing(
    cli: typer.Typer, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'review.db'}"
    with ReviewQueue(store) as q:
        (flag,) = _enqueued_on(q, [datetime(2025, 12, 15, 9)])
    args = ["escalate", "--store", store, "--region", "novgorod", "--now", "2026-01-12T09:00"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    # 12 working days before the New Year holidays against the pack's SLA of 10.
    assert f"escalated item {flag}: family f000000, district north, 2 working days overdue" in (
        first.output
    )
    second = CliRunner().invoke(cli, args)
    assert (second.exit_code, second.output.strip()) == (0, "nothing overdue")
    with ReviewQueue(store) as q:
        assert set(q.items()["status"]) == {"escalated"}


def test_risk_escalate_refuses_a_missing_store_and_a_bad_clock(
    cli: typer.Typer, tmp_path: Path
) -> None:
    missing = f"sqlite:///{tmp_path / 'nothing.db'}"
    result = CliRunner().invoke(cli, ["escalate", "--store", missing])
    assert result.exit_code == 1 and "no review store" in result.output
    assert not (tmp_path / "nothing.db").exists()
    result = CliRunner().invoke(cli, ["escalate", "--store", missing, "--now", "yesterday"])
    assert result.exit_code == 2 and "--now must be an ISO date" in result.output
