"""Follow-ups from offer to completed services, reassign and notes, the treatment record, r0003."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from risk.review import (
    ACTIONS,
    FOLLOW_UP_ACTIONS,
    TREATMENT_COLUMNS,
    AccessDenied,
    DecisionConflict,
    InvalidDecision,
    InvalidUser,
    ReviewQueue,
    WorkingCalendar,
)
from risk.review import _models as m
from tests.risk.review.review_fakes import make_screening

PASSWORD = "correct horse battery"
RATIONALE = "Spoke with the mother; she asked for help with the school fees."
CLOSING = "All three services were delivered; the family says things are better."
TODAY = datetime.now().date()


class Catalog:
    """The two services of district north (the store asks ``for_district``)."""

    def for_district(self, district: str) -> pd.DataFrame:
        ids = ["svc-1", "svc-2"] if district == "north" else ["svc-9"]
        return pd.DataFrame({"service_id": ids})


@pytest.fixture
def q(store_url: str) -> Iterator[ReviewQueue]:
    queue = ReviewQueue(store_url)
    queue.add_user("anna", PASSWORD, "specialist", ["north"])
    queue.add_user("alla", PASSWORD, "specialist", ["north"])
    queue.add_user("boris", PASSWORD, "specialist", ["south"])
    queue.add_user("vera", PASSWORD, "supervisor", ["north", "south"])
    queue.enqueue(make_screening(6, 6), "run-1")
    yield queue
    queue.close()


def _flag(q: ReviewQueue, district: str = "north") -> int:
    items = q.items(districts=[district], status="open")
    return int(items["flag_id"].iloc[0])


def _offer(q: ReviewQueue, flag: int) -> int:
    q.record_decision(flag, "anna", "support_offered", RATIONALE, ["svc-1"], agrees_with_model=True)
    return int(q.follow_ups(flag_id=flag)["followup_id"].iloc[0])


def _since(q: ReviewQueue, seq: int) -> list[str]:
    log = q.audit_log()
    return log[log["seq"] > seq]["action"].tolist()


def test_the_audit_log_knows_the_follow_up_actions() -> None:
    assert set(FOLLOW_UP_ACTIONS) <= set(ACTIONS)


def test_a_follow_up_goes_from_offer_to_completed_services_every_step_audited(
    q: ReviewQueue,
) -> None:
    flag = _flag(q)
    start = int(q.audit_log()["seq"].max())
    fid = _offer(q, flag)
    assert _since(q, start) == ["decision", "followup_open"]
    head = q.follow_ups(flag_id=flag).iloc[0]
    assert (head["status"], head["version"], head["district"]) == ("open", 1, "north")
    cat = Catalog()
    q.record_contact(fid, "anna", on=TODAY, channel="phone", reached=False, note="No answer.")
    assert pd.isna(q.follow_ups(flag_id=flag)["outreach_started_at"].iloc[0])
    q.record_contact(fid, "alla", on=TODAY, channel="visit", reached=True, note="Met the mother.")
    for service, stage in [
        ("svc-1", "accepted"),
        ("svc-2", "accepted"),
        ("svc-1", "started"),
        ("svc-1", "completed"),
        ("svc-2", "started"),
        ("svc-2", "completed"),
    ]:
        q.record_service(fid, "anna", service, stage, on=TODAY, catalog=cat)
    step = q.close_follow_up(fid, "anna", "completed", CLOSING)
    assert step.version == 10  # opened at 1, then nine steps
    assert _since(q, start) == [
        "decision",
        "followup_open",
        "followup_contact",
        "followup_contact",
        *["followup_service"] * 6,
        "followup_close",
    ]
    log = q.audit_log().set_index("seq")
    close = log[log["action"] == "followup_close"].iloc[0]
    assert close["actor"] == "anna" and close["details"]["outcome"] == "completed"
    assert CLOSING not in str(close["details"])
    assert q.verify_audit_log().ok
    head = q.follow_ups(flag_id=flag).iloc[0]
    assert (head["status"], head["outcome"], head["closed_by"]) == ("closed", "completed", "anna")
    assert head["outreach_started_at"].date() == TODAY
    events = q.follow_up_events(fid, "anna")
    assert events["kind"].tolist() == ["contact", "contact", *["service"] * 6]
    assert events["user"].tolist()[:2] == ["anna", "alla"]
    with pytest.raises(DecisionConflict, match="already closed"):
        q.record_contact(fid, "anna", on=TODAY, channel="phone", reached=True)

    record = q.treatment_record()
    assert list(record.columns) == list(TREATMENT_COLUMNS) and len(record) == 1
    row = record.iloc[0]
    assert (row["flag_id"], row["run_id"], row["decision"], row["outcome"]) == (
        flag, "run-1", "support_offered", "completed",
    )  # fmt: skip
    assert row["services_accepted"] == ("svc-1", "svc-2")
    assert row["services_completed"] == ("svc-1", "svc-2")
    assert (row["n_services_accepted"], row["n_services_started"]) == (2, 2)
    assert row["outreach_started_at"].date() == TODAY and pd.isna(row["declined_at"])
    assert q.treatment_record(since=datetime.now() + timedelta(days=1)).empty


def test_only_outreach_decisions_open_a_follow_up(q: ReviewQueue) -> None:
    flags = q.items(districts=["north"], status="open")["flag_id"].astype(int).tolist()
    q.record_decision(flags[0], "anna", "referred", RATIONALE, agrees_with_model=True)
    q.record_decision(flags[1], "anna", "no_outreach_needed", RATIONALE, agrees_with_model=False)
    assert q.follow_ups()["flag_id"].tolist() == [flags[0]]


def test_follow_up_steps_are_checked(q: ReviewQueue) -> None:
    fid = _offer(q, _flag(q))
    cat = Catalog()
    with pytest.raises(InvalidDecision, match="channel must be one of phone, visit"):
        q.record_contact(fid, "anna", on=TODAY, channel="pigeon", reached=True)
    with pytest.raises(InvalidDecision, match="is in the future"):
        q.record_contact(fid, "anna", on=TODAY + timedelta(days=2), channel="phone", reached=True)
    with pytest.raises(InvalidDecision, match="before the follow-up opened"):
        q.record_contact(fid, "anna", on=date(2020, 1, 1), channel="phone", reached=True)
    with pytest.raises(InvalidDecision, match="'svc-9' is not in the catalogue of district"):
        q.record_service(fid, "anna", "svc-9", "accepted", on=TODAY, catalog=cat)
    with pytest.raises(InvalidDecision, match="stage must be one of accepted"):
        q.record_service(fid, "anna", "svc-1", "finished", on=TODAY, catalog=cat)
    with pytest.raises(InvalidDecision, match="rationale must be at least 20"):
        q.close_follow_up(fid, "anna", "declined", "no")
    with pytest.raises(InvalidDecision, match="outcome must be one of completed"):
        q.close_follow_up(fid, "anna", "vanished", CLOSING)
    with pytest.raises(AccessDenied, match="no access to district 'north'"):
        q.record_contact(fid, "boris", on=TODAY, channel="phone", reached=True)
    assert q.audit_log()["action"].tolist()[-1] == "access_denied"
    assert q.follow_up_events(fid).empty
    assert q.follow_ups(flag_id=None, user="boris").empty
    q.record_declined(fid, "anna", on=TODAY, note="The family no longer wants visits.")
    assert q.follow_ups().iloc[0]["status"] == "open"  # declining closes nothing by itself
    q.close_follow_up(fid, "anna", "declined", "The family declined further help on the phone.")
    row = q.treatment_record().iloc[0]
    assert row["declined_at"] == TODAY and row["outcome"] == "declined"
    assert pd.isna(row["outreach_started_at"]) and row["n_services_accepted"] == 0


def test_a_follow_up_without_first_contact_escalates_and_never_closes(q: ReviewQueue) -> None:
    late, reached = (_offer(q, f) for f in q.items(districts=["north"])["flag_id"][:2])
    monday = datetime(2025, 10, 27, 10)
    with q._engine.begin() as conn:
        conn.execute(sa.update(m.follow_ups).values(opened_at=monday))
    q.record_contact(reached, "anna", on=date(2025, 10, 28), channel="phone", reached=True)
    calendar = WorkingCalendar.for_country("RU", years=[2025])
    # 27-31 October and the worked Saturday: 6 working days by 5 November, against 3.
    assert q.sweep(datetime(2025, 10, 30), calendar=calendar) == []
    done = q.sweep(datetime(2025, 11, 5), calendar=calendar)
    assert [(e.kind, e.days_overdue) for e in done] == [("follow_up", 3)]
    assert q.sweep(datetime(2026, 11, 5), calendar=calendar) == []
    status = q.follow_ups().set_index("followup_id")["status"]
    assert (status[late], status[reached]) == ("escalated", "open")
    assert q.audit_log()["action"].tolist()[-1] == "followup_escalate"
    # Escalated, it still takes steps and is closed only by a person.
    q.record_contact(late, "vera", on=TODAY, channel="visit", reached=True)
    assert q.follow_ups().set_index("followup_id")["status"][late] == "escalated"


def test_supervisors_reassign_and_note_overdue_items_audited(q: ReviewQueue) -> None:
    flag = _flag(q)
    start = int(q.audit_log()["seq"].max())
    version = q.reassign(flag, "vera", "alla")
    assert version == 2 and q.assignees([flag]) == {flag: "alla"}
    note_id = q.add_note(flag, "vera", "Please call before Friday.")
    notes = q.notes(flag, "anna")
    assert notes[["note_id", "user", "text"]].values.tolist() == [
        [note_id, "vera", "Please call before Friday."]
    ]
    assert _since(q, start) == ["reassign", "note"]
    reassign = q.audit_log().iloc[-2]
    assert reassign["details"]["to"] == "alla" and reassign["details"]["from"] is None
    with pytest.raises(InvalidUser, match="'boris' \\(specialist\\) is not a specialist of"):
        q.reassign(flag, "vera", "boris")
    with pytest.raises(InvalidUser, match="'vera' \\(supervisor\\) is not a specialist"):
        q.reassign(flag, "vera", "vera")
    with pytest.raises(InvalidUser, match="no user 'nobody'"):
        q.reassign(flag, "vera", "nobody")
    with pytest.raises(AccessDenied, match="is not a supervisor"):
        q.reassign(flag, "anna", "alla")
    with pytest.raises(DecisionConflict, match="changed since you read it"):
        q.reassign(flag, "vera", "anna", expected_version=1)
    with pytest.raises(InvalidDecision, match="the note must not be empty"):
        q.add_note(flag, "vera", "   ")
    assert _since(q, start) == ["reassign", "note", "access_denied"]
    # The supervisor decides the item themselves: the ordinary decision, by them.
    q.record_decision(flag, "vera", "referred", RATIONALE, agrees_with_model=True)
    with pytest.raises(DecisionConflict, match="already decided"):
        q.reassign(flag, "vera", "anna")


# -- migration r0003 --------------------------------------------------------------------------


def _upgrade(url: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from risk.review._store import MIGRATIONS_DIR, make_engine

    engine = make_engine(url, connect_timeout=5.0, lock_timeout=30.0)
    with engine.connect() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    engine.dispose()


def test_a_store_at_r0002_with_data_upgrades_in_place(store_url: str) -> None:
    _upgrade(store_url, "r0002")
    old = ReviewQueue(store_url)
    old._session._migrated = True  # write as the r0002 code did: no follow-ups yet
    old.add_user("anna", PASSWORD, "specialist", ["north"])
    old.enqueue(make_screening(6, 3), "run-1")
    flag = int(old.items(districts=["north"])["flag_id"].iloc[0])
    with old._engine.begin() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert "follow_ups" not in tables
    old.record_decision(flag, "anna", "no_outreach_needed", RATIONALE, agrees_with_model=False)
    before = old.audit_log()
    old.close()

    new = ReviewQueue(store_url)  # migrates to the head on first use
    items = new.items()
    assert len(items) == 3 and items.set_index("flag_id").loc[flag, "status"] == "decided"
    assert new.assignees(items["flag_id"]) == {}
    assert new.follow_ups().empty and new.treatment_record().empty
    assert new.audit_log()["hash"].tolist() == before["hash"].tolist()
    assert new.verify_audit_log().ok
    other = int(new.items(status="open")["flag_id"].iloc[0])
    new.add_user("vera", PASSWORD, "supervisor", ["north", "south", "east"])
    new.record_decision(other, "vera", "referred", RATIONALE, agrees_with_model=True)
    assert new.follow_ups()["flag_id"].tolist() == [other]
    new.close()
