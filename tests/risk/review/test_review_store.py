"""The review queue against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features import Records
from risk.review import (
    ITEM_COLUMNS,
    AccessDenied,
    AuthenticationFailed,
    DecisionConflict,
    InvalidDecision,
    InvalidUser,
    LoginPolicy,
    ReviewError,
    ReviewQueue,
    UnknownItem,
    exclude_disputed,
    verify_audit_log,
)
from tests.risk.review.review_fakes import make_screening

RATIONALE = "Spoke with the mother; she asked for help with the school fees."
PASSWORD = "correct horse battery"


@pytest.fixture
def q(store_url: str) -> ReviewQueue:
    queue = ReviewQueue(store_url)
    queue.add_user("anna", PASSWORD, "specialist", ["north"])
    queue.add_user("boris", PASSWORD, "specialist", ["south"])
    queue.add_user("vera", PASSWORD, "supervisor", ["north", "south"])
    yield queue
    queue.close()


def _actions(q: ReviewQueue) -> list[str]:
    return q.audit_log()["action"].tolist()


def _flag_in(q: ReviewQueue, district: str) -> int:
    items = q.items(districts=[district], status="open")
    return int(items["flag_id"].iloc[0])


# -- schema -----------------------------------------------------------------------------------


def test_migrations_match_the_table_definitions(store_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from risk.review import _models

    q = ReviewQueue(store_url)
    q.migrate()
    q.migrate()  # idempotent
    with q._engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), _models.metadata)
    assert [d for d in diff if "review_alembic_version" not in str(d)] == []
    q.close()


# -- enqueue ----------------------------------------------------------------------------------


def test_enqueue_writes_one_open_item_per_flag(q: ReviewQueue) -> None:
    s = make_screening(30, 12)
    result = q.enqueue(s, "run-1")
    assert (result.n_flags, result.created) == (12, True)
    items = q.items(run_id="run-1")
    assert list(items.columns) == list(ITEM_COLUMNS)
    assert len(items) == 12
    assert set(items["status"]) == {"open"}
    assert set(items["tier"]) == {"priority"}
    assert set(items["family_id"]) == set(s.scores.loc[s.scores["flagged"], "family_id"])
    assert items["score"].is_monotonic_decreasing
    run = q.runs().set_index("run_id").loc["run-1"]
    assert run["n_flags"] == 12 and run["n_scored"] == 30
    assert run["model_version"] == "family_distress@3" and run["as_of"] == "2025-06-30"
    assert run["tier_counts"] == {"priority": 12, "support": 12, "universal": 6}
    assert "enqueue_run" in _actions(q)


def test_enqueue_again_changes_nothing(q: ReviewQueue) -> None:
    s = make_screening(20, 7)
    q.enqueue(s, "run-1")
    log_before = len(q.audit_log())
    again = q.enqueue(s, "run-1")
    assert (again.n_flags, again.created) == (7, False)
    assert len(q.items(run_id="run-1")) == 7
    assert len(q.audit_log()) == log_before


def test_enqueue_same_run_id_with_other_flags_is_refused(q: ReviewQueue) -> None:
    q.enqueue(make_screening(20, 7), "run-1")
    with pytest.raises(ReviewError, match="run run-1 was already enqueued with 7 flags"):
        q.enqueue(make_screening(20, 8), "run-1")


def test_enqueue_refuses_flags_without_payload(q: ReviewQueue) -> None:
    s = make_screening(10, 3)
    broken = type(s)(scores=s.scores, payloads={})
    with pytest.raises(ReviewError, match=r"run r: flag_payloads\(\) has no payload for 3"):
        q.enqueue(broken, "r")
    assert q.runs().empty


def test_run_with_no_flags_is_recorded(q: ReviewQueue) -> None:
    assert q.enqueue(make_screening(10, 0), "quiet").n_flags == 0
    assert q.items(run_id="quiet").empty
    assert q.runs()["run_id"].tolist() == ["quiet"]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.integers(0, 40),
    frac=st.floats(0, 1),
    repeats=st.integers(1, 3),
    seed=st.integers(0, 10_000),
)
def test_enqueue_is_idempotent_and_items_equal_flags(
    module_store_url: str, n: int, frac: float, repeats: int, seed: int
) -> None:
    q = ReviewQueue(module_store_url)
    run_id = f"prop-{seed}-{n}-{frac:.6f}-{repeats}"
    s = make_screening(n, int(n * frac), seed=seed, prefix=f"p{seed}-")
    n_flags = int(s.scores["flagged"].sum())
    runs_before = len(q.runs())
    results = [q.enqueue(s, run_id) for _ in range(repeats)]
    assert [r.created for r in results].count(True) <= 1
    items = q.items(run_id=run_id)
    assert len(items) == n_flags == len(items[items["status"] == "open"])
    assert len(q.runs()) - runs_before in (0, 1)
    assert q.verify_audit_log().ok
    q.close()


# -- access and listing -----------------------------------------------------------------------


def test_items_for_a_user_show_only_their_districts(q: ReviewQueue) -> None:
    q.enqueue(make_screening(30, 15), "run-1")
    seen = q.items(user="anna")
    assert set(seen["district"]) == {"north"} and len(seen) == 5
    assert len(q.items(user="vera")) == 10
    with pytest.raises(AccessDenied, match="user 'anna' has no access to district 'south'"):
        q.items(user="anna", districts=["south"])
    assert _actions(q)[-1] == "access_denied"


def test_view_checks_access_and_is_audited(q: ReviewQueue) -> None:
    q.enqueue(make_screening(9, 9), "run-1")
    north, south = _flag_in(q, "north"), _flag_in(q, "south")
    item = q.item(north, "anna")
    assert item.district == "north" and item.status == "open" and item.version == 1
    assert item.payload["needs"] == ["material", "health_disability"]
    assert item.payload["services"][0]["name_ru"] == "Соцработник на дом"
    assert _actions(q)[-1] == "view_family"
    with pytest.raises(AccessDenied, match=f"view flag {south}: user 'anna' has no access"):
        q.item(south, "anna")
    log = q.audit_log()
    assert log["action"].iloc[-1] == "access_denied"
    assert log["details"].iloc[-1]["district"] == "south"
    with pytest.raises(UnknownItem, match="flag 999999: no such queue item"):
        q.item(999999, "anna")


def test_unknown_or_missing_user_is_refused_and_audited(q: ReviewQueue) -> None:
    q.enqueue(make_screening(3, 3), "run-1")
    flag = _flag_in(q, "north")
    with pytest.raises(AuthenticationFailed, match="unknown user 'mallory'"):
        q.record_decision(flag, "mallory", "referred", RATIONALE, agrees_with_model=True)
    with pytest.raises(AuthenticationFailed, match="no user; log in first"):
        q.item(flag, "")
    log = q.audit_log()
    assert log["action"].tolist()[-2:] == ["access_denied", "access_denied"]
    assert log["actor"].tolist()[-2:] == ["mallory", "anonymous"]
    assert q.decisions().empty


# -- decisions --------------------------------------------------------------------------------


def test_decision_closes_the_item_and_is_audited(q: ReviewQueue) -> None:
    q.enqueue(make_screening(6, 6), "run-1")
    flag = _flag_in(q, "north")
    d = q.record_decision(
        flag,
        "anna",
        "support_offered",
        RATIONALE,
        ["svc-1", "svc-7"],
        agrees_with_model=False,
    )
    assert (d.flag_id, d.user, d.item_version) == (flag, "anna", 2)
    item = q.items(run_id="run-1").set_index("flag_id").loc[flag]
    assert item["status"] == "decided" and item["version"] == 2
    rec = q.decisions(flag_id=flag).iloc[0]
    assert rec["services_offered"] == ["svc-1", "svc-7"]
    assert rec["agrees_with_model"] is False or rec["agrees_with_model"] == False  # noqa: E712
    assert rec["rationale"] == RATIONALE and rec["district"] == "north"
    entry, opened = q.audit_log().iloc[-2], q.audit_log().iloc[-1]
    assert entry["action"] == "decision" and entry["details"]["decision_id"] == d.decision_id
    assert opened["action"] == "followup_open" and opened["details"]["flag_id"] == flag
    assert RATIONALE not in json.dumps(entry["details"], ensure_ascii=False)
    assert len(q.items(run_id="run-1", status="open")) == 5


def test_second_decision_on_an_item_conflicts(q: ReviewQueue) -> None:
    q.enqueue(make_screening(3, 3), "run-1")
    flag = _flag_in(q, "north")
    q.record_decision(flag, "anna", "no_outreach_needed", RATIONALE, agrees_with_model=False)
    with pytest.raises(DecisionConflict, match=f"flag {flag}: already decided"):
        q.record_decision(flag, "vera", "referred", RATIONALE, agrees_with_model=True)
    assert len(q.decisions(flag_id=flag)) == 1


def test_stale_version_conflicts(q: ReviewQueue) -> None:
    q.enqueue(make_screening(3, 3), "run-1")
    flag = _flag_in(q, "north")
    with pytest.raises(DecisionConflict, match="changed since you read it"):
        q.record_decision(
            flag, "anna", "referred", RATIONALE, agrees_with_model=True, expected_version=7
        )
    q.record_decision(
        flag, "anna", "referred", RATIONALE, agrees_with_model=True, expected_version=1
    )


@pytest.mark.parametrize(
    ("decision", "rationale", "services", "message"),
    [
        ("close", RATIONALE, (), "decision must be one of support_offered"),
        ("referred", "too short", (), "rationale must be at least 20 characters; got 9"),
        ("support_offered", RATIONALE, (), "decision .support_offered. needs the services"),
        ("referred", RATIONALE, ("svc-1",), "services_offered only goes with"),
    ],
)
def test_invalid_decisions_are_refused_before_the_store(
    q: ReviewQueue, decision: str, rationale: str, services: tuple[str, ...], message: str
) -> None:
    q.enqueue(make_screening(3, 3), "run-1")
    flag = _flag_in(q, "north")
    with pytest.raises(InvalidDecision, match=f"flag {flag}: {message}"):
        q.record_decision(flag, "anna", decision, rationale, services, agrees_with_model=True)
    assert q.items(run_id="run-1").set_index("flag_id").loc[flag, "status"] == "open"


def test_decision_outside_ones_districts_is_denied(q: ReviewQueue) -> None:
    q.enqueue(make_screening(3, 3), "run-1")
    flag = _flag_in(q, "south")
    with pytest.raises(AccessDenied, match="user 'anna' has no access to district 'south'"):
        q.record_decision(flag, "anna", "referred", RATIONALE, agrees_with_model=True)
    assert q.decisions().empty
    assert _actions(q)[-1] == "access_denied"


def test_admin_without_districts_sees_no_family(q: ReviewQueue) -> None:
    q.add_user("root", PASSWORD, "admin", [])
    q.enqueue(make_screening(3, 3), "run-1")
    assert q.items(user="root").empty
    with pytest.raises(AccessDenied):
        q.item(_flag_in(q, "north"), "root")


# -- escalation -------------------------------------------------------------------------------


def test_overdue_items_escalate_and_are_never_closed(q: ReviewQueue) -> None:
    q.enqueue(make_screening(6, 6), "run-1")
    created = q.items()["created_at"].min().to_pydatetime()
    assert q.escalate_overdue(created + timedelta(days=3)) == []
    # 10 working days are two calendar weeks; three weeks later every open item is overdue.
    decided = _flag_in(q, "north")
    q.record_decision(decided, "anna", "family_declined", RATIONALE, agrees_with_model=True)
    later = created + timedelta(days=21)
    escalated = q.escalate_overdue(later)
    assert len(escalated) == 5 and decided not in escalated
    items = q.items().set_index("flag_id")
    assert set(items.loc[escalated, "status"]) == {"escalated"}
    assert items.loc[decided, "status"] == "decided"
    assert q.escalate_overdue(later + timedelta(days=30)) == []  # never further, never closed
    assert set(q.items()["status"]) == {"escalated", "decided"}
    # A supervisor of the district decides an escalated item.
    north = int(items[(items["district"] == "north") & (items["status"] == "escalated")].index[0])
    q.record_decision(north, "vera", "referred", RATIONALE, agrees_with_model=True)
    assert _actions(q).count("escalate") == 5


def test_escalation_counts_working_days(q: ReviewQueue) -> None:
    q.enqueue(make_screening(1, 1), "run-1")
    created = q.items()["created_at"].iloc[0].to_pydatetime()
    # 10 calendar days hold at most 8 working days: not overdue, whatever the weekday.
    assert q.escalate_overdue(created + timedelta(days=10)) == []
    assert len(q.escalate_overdue(created + timedelta(days=10), sla_working_days=1)) == 1


# -- disputes ---------------------------------------------------------------------------------


def test_dispute_is_recorded_with_access_check(q: ReviewQueue) -> None:
    q.enqueue(make_screening(3, 3), "run-1")
    items = q.items().set_index("district")
    north, south = items.loc["north", "family_id"], items.loc["south", "family_id"]
    q.dispute("e17", "anna", "Wrong family: same surname, other address.", family_id=north)
    assert q.disputed_event_ids() == {"e17"}
    assert q.disputed_event_ids(family_id=north) == {"e17"}
    assert q.disputed_event_ids(family_id=south) == set()
    with pytest.raises(AccessDenied, match="dispute event e18"):
        q.dispute("e18", "anna", "Wrong family: same surname.", family_id=south)
    with pytest.raises(UnknownItem, match="family nobody is not in the review queue"):
        q.dispute("e19", "anna", "Wrong family: same surname.", family_id="nobody")
    with pytest.raises(InvalidDecision, match="dispute of event e20: reason must be at least"):
        q.dispute("e20", "anna", "wrong", family_id=north)
    assert q.disputed_event_ids() == {"e17"}
    assert "dispute" in _actions(q)


# -- users and logins -------------------------------------------------------------------------


def test_users_are_validated_and_listed_without_hashes(q: ReviewQueue) -> None:
    with pytest.raises(InvalidUser, match="user 'anna' already exists"):
        q.add_user("anna", PASSWORD, "specialist", ["north"])
    with pytest.raises(InvalidUser, match="role must be one of"):
        q.add_user("gleb", PASSWORD, "boss", ["north"])
    with pytest.raises(InvalidUser, match="a specialist needs at least one district"):
        q.add_user("gleb", PASSWORD, "specialist", [])
    users = q.users().set_index("name")
    assert list(users.index) == ["anna", "boris", "vera"]
    assert users.loc["vera", "districts"] == ["north", "south"]
    assert "password_hash" not in users.columns
    assert q.get_user("vera").districts == frozenset({"north", "south"})
    with pytest.raises(UnknownItem, match="unknown user 'gleb'"):
        q.get_user("gleb")
    # A user is read with their districts in one query: one without districts is still a user.
    q.add_user("olga", PASSWORD, "admin", [])
    olga = q.get_user("olga")
    assert (olga.name, olga.role, olga.districts) == ("olga", "admin", frozenset())
    q.set_districts("olga", ["south"], actor="admin")
    assert q.get_user("olga").districts == frozenset({"south"})


def test_passwords_never_stored_or_logged_in_clear(q: ReviewQueue) -> None:
    q.authenticate("anna", PASSWORD)
    with pytest.raises(AuthenticationFailed):
        q.authenticate("anna", "wrong but long password")
    with q._engine.connect() as conn:
        dump = []
        for table in ("users", "audit_log"):
            dump += [str(r) for r in conn.execute(sa.text(f"SELECT * FROM {table}"))]
        hashes = conn.execute(sa.text("SELECT password_hash FROM users")).scalars().all()
    text = "\n".join(dump)
    assert PASSWORD not in text and "wrong but long password" not in text
    assert all(h.startswith("scrypt$16384$8$1$") for h in hashes)


def test_logins_are_audited_and_failures_slow_down(store_url: str) -> None:
    q = ReviewQueue(store_url, login_policy=LoginPolicy(free_attempts=2, base_delay_s=60))
    q.add_user("anna", PASSWORD, "specialist", ["north"])
    t0 = datetime(2025, 3, 3, 9, 0)
    assert q.authenticate("anna", PASSWORD, now=t0).name == "anna"
    for _ in range(2):
        with pytest.raises(AuthenticationFailed, match="unknown user or wrong password"):
            q.authenticate("anna", "not the password", now=t0)
    with pytest.raises(AuthenticationFailed, match="unknown user or wrong password"):
        q.authenticate("anna", "not the password", now=t0)  # third: locked for 60 s
    # The lock is in the store: a new queue object (a restarted app) still refuses.
    q2 = ReviewQueue(store_url)
    with pytest.raises(AuthenticationFailed, match="too many failed logins; try again after"):
        q2.authenticate("anna", PASSWORD, now=t0 + timedelta(seconds=30))
    assert q2.authenticate("anna", PASSWORD, now=t0 + timedelta(seconds=61)).name == "anna"
    assert int(q2.users().set_index("name").loc["anna", "failed_logins"]) == 0
    with pytest.raises(AuthenticationFailed, match="unknown user or wrong password"):
        q2.authenticate("mallory", PASSWORD)
    with pytest.raises(AuthenticationFailed, match="no user name given"):
        q2.authenticate("", PASSWORD)
    log = q2.audit_log()
    logins = log[log["action"].isin(["login", "login_failed"])]
    assert (
        logins["action"].tolist()
        == ["login"] + ["login_failed"] * 4 + ["login"] + ["login_failed"] * 2
    )
    reasons = [d.get("reason") for d in logins["details"]]
    assert reasons[1:5] == ["wrong password"] * 3 + ["locked out"]
    assert reasons[-2:] == ["unknown user", "no user"]
    q.close()
    q2.close()


# -- audit log --------------------------------------------------------------------------------


def _busy_store(q: ReviewQueue) -> None:
    q.enqueue(make_screening(6, 6), "run-1")
    flag = _flag_in(q, "north")
    q.item(flag, "anna")
    q.record_decision(flag, "anna", "referred", RATIONALE, agrees_with_model=True)


def test_audit_chain_verifies(q: ReviewQueue) -> None:
    _busy_store(q)
    result = verify_audit_log(q.url)
    assert result.ok and result.n_rows == len(q.audit_log()) >= 6
    log = q.audit_log()
    assert log["seq"].tolist() == list(range(1, len(log) + 1))
    assert (log["prev_hash"].iloc[1:].to_numpy() == log["hash"].iloc[:-1].to_numpy()).all()


@pytest.mark.parametrize(
    ("tamper", "broken", "reason"),
    [
        ("UPDATE audit_log SET actor = 'boris' WHERE seq = 4", 4, "hash mismatch"),
        ("UPDATE audit_log SET details_json = '{}' WHERE seq = 3", 3, "hash mismatch"),
        ("DELETE FROM audit_log WHERE seq = 3", 4, "gap in seq: expected 3, found 4"),
        ("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)", None, "missing"),
        (
            # swap the contents of rows 2 and 3 (seq stays in place)
            "UPDATE audit_log SET seq = CASE seq WHEN 2 THEN -3 WHEN 3 THEN -2 END "
            "WHERE seq IN (2, 3); UPDATE audit_log SET seq = -seq WHERE seq < 0",
            2,
            "prev_hash mismatch",
        ),
    ],
)
def test_tampering_is_detected_at_the_first_broken_row(
    q: ReviewQueue, tamper: str, broken: int | None, reason: str
) -> None:
    _busy_store(q)
    assert q.verify_audit_log().ok
    last = int(q.audit_log()["seq"].max())
    with q._engine.connect() as conn, conn.begin():
        for statement in tamper.split("; "):
            conn.exec_driver_sql(statement)
    result = q.verify_audit_log()
    assert not result.ok
    assert result.first_broken_seq == (broken if broken is not None else last)
    assert reason in (result.reason or "")
    assert f"BROKEN at seq {result.first_broken_seq}" in str(result)


def test_audit_log_frame_has_the_documented_columns(q: ReviewQueue) -> None:
    _busy_store(q)
    log = q.audit_log()
    assert list(log.columns) == [
        "seq", "at", "actor", "action", "subject", "details", "prev_hash", "hash"
    ]  # fmt: skip
    assert pd.Timestamp(log["at"].iloc[0]).tzinfo is not None
    assert log["action"].iloc[0] == "user_added"


def test_disputed_records_are_left_out_when_the_family_is_scored_again(q: ReviewQueue) -> None:
    q.enqueue(make_screening(3, 3), "run-1")
    family = q.items(districts=["north"])["family_id"].iloc[0]
    recs = Records.empty()
    events = pd.DataFrame(
        {c: pd.Series([None] * 3, dtype=recs.events[c].dtype) for c in recs.events.columns}
    )
    events["event_id"] = pd.Series(["e1", "e2", "e3"], dtype="str")
    events["family_id"] = pd.Series([family] * 3, dtype="str")
    q.dispute("e2", "anna", "Debt belongs to a former tenant.", family_id=family)
    kept = exclude_disputed(recs.replace(events=events), q.disputed_event_ids(family_id=family))
    assert kept.events["event_id"].tolist() == ["e1", "e3"]
