"""The scheduled sweep, the card's follow-up section and the supervisor's actions (handlers)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest
import sqlalchemy as sa

from review_app import _cli
from review_app._catalog import DistrictServices
from review_app._followup_view import FollowUpPanel, SupervisorActions
from review_app._scheduler import JOB_ID, run_sweep, start_escalation
from review_app._service import ReviewService
from review_app._text import escape_text
from risk import load_catalog
from risk.review import ReviewQueue, WorkingCalendar
from risk.review import _models as m
from tests.review_app.review_app_fakes import make_queue

RATIONALE = "Spoke with the mother; she asked for help with the school fees."
CLOSING = "The family attended the course and says it helped a lot."


def _as(user: str) -> Any:
    return SimpleNamespace(username=user)


@pytest.fixture
def queue(tmp_path, fake_screening) -> Iterator[ReviewQueue]:  # type: ignore[no-untyped-def]
    q = make_queue(tmp_path / "r.db", fake_screening)
    yield q
    q.close()


def _north(queue: ReviewQueue) -> int:
    items = queue.items(districts=["velikiy_novgorod"], status="open")
    return int(items["flag_id"].iloc[0])


# -- the scheduled sweep ----------------------------------------------------------------------


def test_the_scheduled_job_runs_the_sweep_and_stops(queue: ReviewQueue) -> None:
    assert run_sweep(queue, WorkingCalendar()) == []
    with queue._engine.begin() as conn:
        conn.execute(sa.update(m.flags).values(created_at=datetime(2025, 10, 1)))
    n = queue.count_items(status="open")
    scheduler = start_escalation(queue, WorkingCalendar(), every_minutes=60)
    try:
        job = scheduler.get_job(JOB_ID)
        assert (job.max_instances, job.coalesce) == (1, True)
        deadline = time.monotonic() + 20
        while queue.count_items(status="escalated") < n and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
    assert queue.count_items(status="escalated") == n and queue.count_items(status="open") == 0
    assert queue.audit_log()["action"].tolist().count("escalate") == n
    with pytest.raises(ValueError, match="every_minutes must be positive"):
        start_escalation(queue, WorkingCalendar(), every_minutes=0)


def test_the_review_command_applies_the_region_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    for attr in ("default_calendar", "default_sla_working_days", "first_contact_working_days"):
        monkeypatch.setattr(ReviewService, attr, getattr(ReviewService, attr))
    deadlines = _cli._use_region("novgorod")
    assert deadlines["calendar"].name == "RU"
    assert (deadlines["sla_working_days"], deadlines["first_contact_working_days"]) == (10, 3)
    assert ReviewService.default_calendar is deadlines["calendar"]
    assert ReviewService(ReviewQueue("sqlite://")).calendar.name == "RU"


# -- the follow-up section of the card --------------------------------------------------------


def test_the_follow_up_section_records_each_step_through_the_store(queue: ReviewQueue) -> None:
    service = ReviewService(queue)
    catalog = DistrictServices(load_catalog())
    with gr.Blocks():
        panel = FollowUpPanel("en", service, catalog)
    flag = _north(queue)
    state = (flag, "f", "velikiy_novgorod")
    hidden = panel.show(state, _as("anna"))
    assert hidden[0]["visible"] is False and hidden[1] is None
    queue.record_decision(flag, "anna", "support_offered", RATIONALE, ["x"], agrees_with_model=True)
    shown = panel.show(state, _as("anna"))
    fid = shown[1]
    assert shown[0]["visible"] is True and "under way" in shown[2] and shown[3].empty
    service_id = shown[4]["choices"][0][1]
    today = shown[5]["value"]
    assert panel.do_contact(state, fid, today, "phone", True, "Met", _as("anna")).startswith(
        "Recorded"
    )
    assert "Recorded" in panel.do_service(state, fid, today, service_id, "accepted", _as("alla"))
    refused = panel.do_service(state, fid, today, "no-such-service", "started", _as("anna"))
    assert refused.startswith("❌") and "not in the district's list of services" in refused
    assert panel.do_contact(state, fid, "31.12.2025", "phone", True, "", _as("anna")).startswith(
        "❌"
    )
    assert "no access" in panel.do_contact(state, fid, today, "phone", True, "", _as("boris"))
    assert "Recorded" in panel.do_close(state, fid, "completed", CLOSING, _as("anna"))
    after = panel.show(state, _as("anna"))
    assert "Closed" in after[2] and "services completed" in after[2]
    assert after[3].iloc[:, 1].tolist() == ["contact", "service"]
    actions = queue.audit_log()["action"].tolist()
    assert actions.count("followup_contact") == 1 and actions[-1] == "followup_close"


# -- the supervisor's actions -----------------------------------------------------------------


def test_the_supervisor_reassigns_and_notes_an_item(queue: ReviewQueue) -> None:
    service = ReviewService(queue)
    with gr.Blocks():
        actions = SupervisorActions("ru", service)
    flag = _north(queue)
    to, notes = actions.choices(flag, _as("sveta"))
    assert to["choices"] == ["alla", "anna"] and "Заметок пока нет" in notes
    assert "alla" in actions.do_reassign(flag, "alla", _as("sveta"))
    assert actions.do_reassign(flag, "boris", _as("sveta")).startswith("❌")
    assert actions.do_reassign(flag, "anna", _as("anna")).startswith("❌")
    assert "Заметка" in actions.do_note(flag, "Позвонить до пятницы.", _as("sveta"))
    _, notes = actions.choices(flag, _as("sveta"))
    # Shown as text: the note's Markdown punctuation is escaped, so it renders as written.
    assert escape_text("Позвонить до пятницы.") in notes and "sveta" in notes
    assert queue.assignees([flag]) == {flag: "alla"}
    log = queue.audit_log()
    assert log["action"].tolist()[-3:] == ["reassign", "access_denied", "note"]


def test_the_supervisor_view_lists_reassigned_items_and_late_follow_ups(
    queue: ReviewQueue,
) -> None:
    from review_app import _supervisor as sup

    service = ReviewService(queue)
    flags = queue.items(districts=["velikiy_novgorod"], status="open")["flag_id"].astype(int)
    offered, reassigned = int(flags.iloc[0]), int(flags.iloc[1])
    queue.record_decision(offered, "anna", "referred", RATIONALE, agrees_with_model=True)
    queue.reassign(reassigned, "sveta", "alla")
    with queue._engine.begin() as conn:
        conn.execute(sa.update(m.flags).values(created_at=datetime(2025, 10, 1)))
        conn.execute(sa.update(m.follow_ups).values(opened_at=datetime(2025, 10, 1)))
    done = queue.sweep(datetime.now(), calendar=WorkingCalendar())
    assert ("follow_up", offered) in {(e.kind, e.flag_id) for e in done}
    data = service.supervisor_data("sveta")
    shown = sup.overdue_table(data.late, "en").set_index("Flag")
    assert shown.loc[reassigned, "Reassigned to"] == "alla"
    late = sup.follow_up_table(data.late_follow_ups, "en")
    assert late.iloc[:, 0].tolist() == [offered]
