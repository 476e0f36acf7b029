"""Audit-log attacks of issue 17 (4a-c), each on SQLite and PostgreSQL: all now fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
import typer
from typer.testing import CliRunner

from risk.commands import audit_log
from risk.review import ReviewQueue, parse_anchor, verify_audit_log
from risk.review._audit import canonical_json
from tests.risk.review.review_fakes import make_screening

RATIONALE = "Spoke with the mother; she asked for help with the school fees."
PASSWORD = "correct horse battery"


@pytest.fixture
def q(store_url: str) -> ReviewQueue:
    queue = ReviewQueue(store_url)
    queue.add_user("anna", PASSWORD, "specialist", ["north"])
    queue.enqueue(make_screening(6, 6), "run-1")
    for flag in queue.items(districts=["north"], status="open")["flag_id"].tolist()[:2]:
        queue.item(int(flag), "anna")
        queue.record_decision(int(flag), "anna", "referred", RATIONALE, agrees_with_model=True)
    yield queue
    queue.close()


def _run(q: ReviewQueue, *statements: str, **params: object) -> None:
    with q._engine.begin() as conn:
        for s in statements:
            conn.execute(sa.text(s), params)


def _decision_row(q: ReviewQueue) -> tuple[int, str]:
    log = q.audit_log()
    row = log[log["action"] == "decision"].iloc[0]
    return int(row["seq"]), canonical_json(row["details"])


# -- (a) the exact stored text --------------------------------------------------------------


def test_a_duplicated_json_key_no_longer_verifies(q: ReviewQueue) -> None:
    seq, text = _decision_row(q)
    # The attack: SQL reading the raw text sees the first "decision", the hash the last one.
    forged = '{"decision":"support_offered",' + text[1:]
    assert json.loads(forged) == json.loads(text)
    _run(q, "UPDATE audit_log SET details_json = :t WHERE seq = :s", t=forged, s=seq)
    result = q.verify_audit_log()
    assert not result.ok and result.first_broken_seq == seq
    assert "details_json is not the exact text" in (result.reason or "")


def test_spaces_added_to_the_stored_text_no_longer_verify(q: ReviewQueue) -> None:
    seq, text = _decision_row(q)
    _run(q, "UPDATE audit_log SET details_json = :t WHERE seq = :s", t=" " + text, s=seq)
    assert q.verify_audit_log().first_broken_seq == seq


# -- (b) an anchor kept outside the database ------------------------------------------------


def test_truncating_the_log_and_rewriting_the_head_is_caught_by_the_anchor(q: ReviewQueue) -> None:
    q.add_user("boris", PASSWORD, "specialist", ["south"])
    q.add_user("gleb", PASSWORD, "specialist", ["south"])
    anchor = q.audit_anchor()
    assert q.verify_audit_log(anchor=anchor).ok
    q.add_user("vera", PASSWORD, "supervisor", ["south"])
    assert q.verify_audit_log(anchor=anchor).ok  # the log grew past the anchor: still fine
    # The attack: delete the newest rows (no decision among them: those are cross-checked)
    # and make the head match what is left.
    keep = anchor[0] - 2
    kept_hash = q.audit_log().set_index("seq").loc[keep, "hash"]
    _run(q, "DELETE FROM audit_log WHERE seq > :k", k=keep)
    _run(q, "UPDATE audit_head SET seq = :k, hash = :h WHERE id = 1", k=keep, h=kept_hash)
    assert q.verify_audit_log().ok  # without an anchor this cannot be seen (SECURITY.md)
    result = q.verify_audit_log(anchor=anchor)
    assert not result.ok and result.first_broken_seq == anchor[0]
    assert f"the anchor seq {anchor[0]} is no longer in the log" in (result.reason or "")


def test_an_anchor_with_another_hash_fails(q: ReviewQueue) -> None:
    seq, _ = q.audit_anchor()
    result = q.verify_audit_log(anchor=(seq, "0" * 64))
    assert not result.ok and result.reason == "hash mismatch with the anchor"


# -- (c) decisions against the log ----------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ("UPDATE decisions SET decision = 'no_outreach_needed' WHERE decision_id = 1", "decision"),
        ("UPDATE decisions SET rationale = 'Nothing to see here at all.' WHERE decision_id = 1",
         "rationale_sha256"),
        ("UPDATE decisions SET agrees_with_model = false WHERE decision_id = 1",
         "agrees_with_model"),
        ("UPDATE decisions SET services_offered_json = '[\"x\"]' WHERE decision_id = 1",
         "services_offered"),
    ],
)  # fmt: skip
def test_editing_a_decision_row_fails_verification(
    q: ReviewQueue, statement: str, reason: str
) -> None:
    assert q.verify_audit_log().ok
    _run(q, statement)
    result = q.verify_audit_log()
    assert not result.ok
    assert "decision 1 differs from its audit row" in (result.reason or "")
    assert reason in (result.reason or "")


def test_deleting_a_decision_row_fails_verification(q: ReviewQueue) -> None:
    # Whoever deletes a decision takes the follow-up it opened with it (its foreign key).
    _run(
        q,
        "DELETE FROM follow_up_events WHERE followup_id IN "
        "(SELECT followup_id FROM follow_ups WHERE decision_id = 2)",
        "DELETE FROM follow_ups WHERE decision_id = 2",
        "DELETE FROM decisions WHERE decision_id = 2",
    )
    result = q.verify_audit_log()
    assert not result.ok and result.reason == "decision 2 was deleted from the store"


def test_a_decision_row_without_its_audit_row_fails_verification(q: ReviewQueue) -> None:
    _run(
        q,
        "INSERT INTO decisions (flag_id, user_name, decided_at, decision, rationale, "
        "services_offered_json, agrees_with_model, item_version) SELECT flag_id, user_name, "
        "decided_at, decision, rationale, services_offered_json, agrees_with_model, "
        "item_version FROM decisions WHERE decision_id = 1",
    )
    result = q.verify_audit_log()
    assert not result.ok and "has no audit row" in (result.reason or "")


# -- the commands ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    app = typer.Typer()
    audit_log.register(app)
    return app


def test_anchor_and_verify_commands(cli: typer.Typer, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'review.db'}"
    q = ReviewQueue(store)
    for name in ("anna", "boris", "vera"):
        q.add_user(name, PASSWORD, "specialist", ["north"])
    runner = CliRunner()
    printed = runner.invoke(cli, ["audit-log", "anchor", "--store", store])
    assert printed.exit_code == 0, printed.output
    anchor = printed.output.strip()
    assert parse_anchor(anchor) == (3, q.audit_log()["hash"].iloc[-1])
    (tmp_path / "anchor.txt").write_text(anchor + "\n")
    for given in (anchor, str(tmp_path / "anchor.txt")):
        ok = runner.invoke(cli, ["audit-log", "verify", "--store", store, "--anchor", given])
        assert ok.exit_code == 0 and "audit log OK" in ok.output
    kept = q.audit_log()["hash"].iloc[1]
    _run(q, "DELETE FROM audit_log WHERE seq = 3")
    _run(q, "UPDATE audit_head SET seq = 2, hash = :h WHERE id = 1", h=kept)
    assert verify_audit_log(store).ok
    broken = runner.invoke(cli, ["audit-log", "verify", "--store", store, "--anchor", anchor])
    assert broken.exit_code == 1 and "the anchor seq 3 is no longer in the log" in broken.output
    bad = runner.invoke(cli, ["audit-log", "verify", "--store", store, "--anchor", "3:abc"])
    assert bad.exit_code == 2 and "an audit anchor is SEQ:HASH" in bad.output
    q.close()
