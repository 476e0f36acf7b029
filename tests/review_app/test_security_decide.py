"""A decision without looking (issue 17, 3), over HTTP through the served app and in memory.

A session that never opened the card cannot decide through ``record_decision``; after opening
it can; a stale version is refused; services outside the family's district are refused; one
user's flood of opened cards does not evict another user's.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pandas as pd

from review_app._service import MAX_CARDS_PER_SESSION, Card, _Sessions
from risk.review import ReviewItem
from tests.review_app.review_app_fakes import USERS, Served

RATIONALE = "Called the family; the mother accepted a visit from the centre."


def _call(http: httpx.Client, name: str, data: list[Any], session: str) -> tuple[str, Any]:
    """Call a named endpoint as raw HTTP does (``gradio_api/call``) in ``session``."""
    r = http.post(f"/gradio_api/call/{name}", json={"data": data, "session_hash": session})
    assert r.status_code == 200, r.text
    event_id = r.json()["event_id"]
    event = None
    with http.stream("GET", f"/gradio_api/call/{name}/{event_id}") as s:
        for line in s.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                return event, json.loads(line[5:])
    raise AssertionError(f"{name}: no result")


@contextmanager
def _logged_in(served: Served, user: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=60) as http:
        r = http.post("/login", data={"username": user, "password": USERS[user][0]})
        assert r.status_code == 200
        yield http


def _open_flag(served: Served, district: str) -> int:
    items = served.queue.items(status=("open", "escalated"), districts=(district,))
    return int(items["flag_id"].iloc[0])


def test_a_fresh_session_cannot_decide_until_it_opens_the_card(served: Served) -> None:
    flag = _open_flag(served, "borovichsky")
    decide = [flag, "referred", RATIONALE, [], True]
    log_before = len(served.queue.audit_log())
    with _logged_in(served, "boris") as http:
        event, data = _call(http, "record_decision", decide, uuid.uuid4().hex)
        assert event == "error"
        assert f"flag {flag}: open the family card before deciding" in json.dumps(
            data, ensure_ascii=False
        )
        # Nothing written: no decision, the item still open, no audit row but the login's.
        assert served.queue.decisions(flag_id=flag).empty
        assert served.queue.items(status="open")["flag_id"].isin([flag]).any()
        added = served.queue.audit_log().iloc[log_before:]
        assert "decision" not in set(added["action"])
        # Opening it in one session does not let another session decide.
        session = uuid.uuid4().hex
        event, card = _call(http, "open_family", [flag], session)
        assert event == "complete" and card[0]["flag_id"] == flag
        event, _ = _call(http, "record_decision", decide, uuid.uuid4().hex)
        assert event == "error" and served.queue.decisions(flag_id=flag).empty
        # In the session that opened it: decided.
        event, decided = _call(http, "record_decision", decide, session)
        assert event == "complete", decided
        assert (
            decided[0]["flag_id"] == flag and decided[0]["item_version"] == card[0]["version"] + 1
        )
    assert served.queue.decisions(flag_id=flag)["user"].tolist() == ["boris"]


def test_a_stale_version_is_refused_over_http(served: Served) -> None:
    flag = _open_flag(served, "velikiy_novgorod")
    decide = [flag, "referred", RATIONALE, [], True]
    anna, alla = uuid.uuid4().hex, uuid.uuid4().hex
    with _logged_in(served, "anna") as a, _logged_in(served, "alla") as b:
        assert _call(a, "open_family", [flag], anna)[0] == "complete"
        assert _call(b, "open_family", [flag], alla)[0] == "complete"
        # alla's opening changes nothing, but the escalation bumps the item's version.
        served.queue.escalate_overdue(pd.Timestamp.now().to_pydatetime() + pd.Timedelta(days=60))
        event, data = _call(a, "record_decision", decide, anna)
        assert event == "error" and "changed since you read it" in json.dumps(data)
        assert served.queue.decisions(flag_id=flag).empty
        assert _call(a, "open_family", [flag], anna)[0] == "complete"
        assert _call(a, "record_decision", decide, anna)[0] == "complete"


def test_a_service_not_of_the_district_is_refused_over_http(served: Served) -> None:
    flag = _open_flag(served, "valdaysky")
    session = uuid.uuid4().hex
    with _logged_in(served, "anna") as http:
        assert _call(http, "open_family", [flag], session)[0] == "complete"
        offered = [flag, "support_offered", RATIONALE, ["<img src=x>", "nvg-dif-004"], True]
        event, data = _call(http, "record_decision", offered, session)
        assert event == "error"
        text = json.dumps(data, ensure_ascii=False)
        assert "not services available in this family's district (valdaysky)" in text
        assert served.queue.decisions(flag_id=flag).empty


def _card(flag_id: int, user: str) -> Card:
    item = ReviewItem(
        flag_id=flag_id,
        run_id="r",
        family_id=f"{user}-{flag_id}",
        district="north",
        status="open",
        score=0.5,
        log_odds=0.0,
        tier="priority",
        rank_in_district=1,
        version=1,
        created_at=pd.Timestamp("2025-07-01").to_pydatetime(),
        escalated_at=None,
        decided_at=None,
        model_version="m@1",
        as_of="2025-06-30",
    )
    return Card(item=item, decisions=pd.DataFrame())


def test_one_users_flood_does_not_evict_another_users_opened_card() -> None:
    sessions = _Sessions()
    sessions.opened(("bella", "b-session"), _card(7, "bella"))
    for i in range(10_000):  # in one session, and in as many sessions
        sessions.opened(("mallory", "m-session"), _card(100 + i, "mallory"))
        sessions.opened(("mallory", f"m-{i}"), _card(100 + i, "mallory"))
    assert sessions.version(("bella", "b-session"), 7) == 1
    assert sessions.card(("bella", "b-session")) == (7, "bella-7", frozenset())
    # mallory's memory is bounded: the oldest of her own cards and sessions are forgotten.
    assert sessions.version(("mallory", "m-session"), 100) is None
    assert sessions.version(("mallory", "m-9999"), 10_099) == 1
    assert sessions.version(("mallory", "m-0"), 100) is None
    assert sum(len(s.seen) for s in sessions._users["mallory"].values()) <= (
        MAX_CARDS_PER_SESSION + len(sessions._users["mallory"])
    )
