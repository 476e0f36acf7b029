"""End to end through ``gradio_client`` against the app served on loopback.

Login, list, open, decide; refused without login, across districts, without rationale; conflict
on a stale item; disputes; private handlers neither listed nor usable across districts; every
action in the audit log and the chain verifies.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import httpx
import pytest
from gradio_client.exceptions import AppError, AuthenticationError

from review_app import API_NAMES
from tests.review_app.review_app_fakes import USERS, Served

RATIONALE = "Called the family; the mother accepted a visit from the centre."


def _district_items(
    served: Served, districts: tuple[str, ...], status: tuple[str, ...] = ("open", "escalated")
) -> list[int]:
    items = served.queue.items(status=status, districts=districts)
    return items["flag_id"].astype(int).tolist()


def test_only_the_four_api_endpoints_are_listed(served: Served) -> None:
    info = served.client("anna").view_api(return_format="dict", print_info=False)
    assert sorted(info["named_endpoints"]) == sorted(f"/{n}" for n in API_NAMES)
    assert info["unnamed_endpoints"] == {}


def test_login_list_open_decide(served: Served) -> None:
    anna = served.client("anna")
    items = anna.predict(api_name="/list_queue")
    assert items, "anna's districts have flags"
    assert {i["district"] for i in items} <= set(USERS["anna"][2])
    for key in ("flag_id", "family_id", "district", "tier", "score"):
        assert key in items[0]
    tiers = [("priority", "support", "universal").index(i["tier"]) for i in items]
    assert tiers == sorted(tiers)
    expected = _district_items(served, USERS["anna"][2])
    assert sorted(i["flag_id"] for i in items) == sorted(expected)
    second = anna.predict(2, 5, api_name="/list_queue")  # page 2 of 5 items
    assert [i["flag_id"] for i in second] == [i["flag_id"] for i in items[5:10]]

    flag = items[0]["flag_id"]
    card = anna.predict(flag, api_name="/open_family")
    assert card["flag_id"] == flag and card["status"] == "open"
    assert card["payload"]["family_id"] == items[0]["family_id"]
    assert card["decisions"] == []

    decided = anna.predict(
        flag,
        "support_offered",
        RATIONALE,
        [card["payload"]["services"][0]["service_id"]],
        True,
        api_name="/record_decision",
    )
    assert decided["flag_id"] == flag and decided["user"] == "anna"
    assert decided["decision"] == "support_offered" and decided["agrees_with_model"] is True
    assert flag not in [i["flag_id"] for i in anna.predict(api_name="/list_queue")]
    stored = served.queue.decisions(flag_id=flag)
    assert stored["user"].tolist() == ["anna"] and stored["rationale"].tolist() == [RATIONALE]
    again = anna.predict(flag, api_name="/open_family")
    assert again["status"] == "decided" and len(again["decisions"]) == 1


def test_refused_without_login(served: Served) -> None:
    from gradio_client import Client

    with pytest.raises(AuthenticationError):
        Client(served.url, verbose=False)
    with pytest.raises(ValueError, match="Could not login"):
        Client(served.url, auth=("locked", "not the password"), verbose=False)
    for name in API_NAMES:
        r = httpx.post(f"{served.url}gradio_api/call/{name}", json={"data": []}, timeout=10)
        assert r.status_code == 401, name
    r = httpx.post(
        f"{served.url}gradio_api/queue/join",
        json={"data": [], "fn_index": 0, "session_hash": "x"},
        timeout=10,
    )
    assert r.status_code == 401


def test_refused_across_districts(served: Served) -> None:
    boris = served.client("boris")
    flag = _district_items(served, ("valdaysky",))[0]
    before = served.queue.items(status="open")
    with pytest.raises(AppError, match="has no access to district 'valdaysky'"):
        boris.predict(flag, api_name="/open_family")
    with pytest.raises(AppError, match="has no access to district 'valdaysky'"):
        boris.predict(flag, "referred", RATIONALE, [], True, api_name="/record_decision")
    assert all(i["district"] == "borovichsky" for i in boris.predict(api_name="/list_queue"))
    assert served.queue.items(status="open").equals(before)
    denied = served.queue.audit_log().query("actor == 'boris' and action == 'access_denied'")
    assert {f"view flag {flag}", f"decide flag {flag}"} <= set(denied["subject"])


def test_refused_without_rationale(served: Served) -> None:
    anna = served.client("anna")
    flag = _district_items(served, ("valdaysky",))[0]
    anna.predict(flag, api_name="/open_family")
    with pytest.raises(AppError, match="rationale must be at least 20 characters; got 5"):
        anna.predict(flag, "referred", "ok ok", [], True, api_name="/record_decision")
    with pytest.raises(AppError, match="needs the services offered"):
        anna.predict(flag, "support_offered", RATIONALE, [], True, api_name="/record_decision")
    assert served.queue.items(status="open")["flag_id"].isin([flag]).any()


def test_conflict_on_a_stale_item(served: Served) -> None:
    anna, alla = served.client("anna"), served.client("alla")
    first, second = _district_items(served, ("velikiy_novgorod",))[-2:]
    # Both open the same family; the second decision finds it decided.
    anna.predict(first, api_name="/open_family")
    alla.predict(first, api_name="/open_family")
    anna.predict(first, "referred", RATIONALE, [], False, api_name="/record_decision")
    with pytest.raises(AppError, match=f"flag {first}: already decided"):
        alla.predict(first, "no_outreach_needed", RATIONALE, [], False, api_name="/record_decision")
    # alla opens an item, which then changes (escalated) before she decides: stale version.
    alla.predict(second, api_name="/open_family")
    escalated = served.queue.escalate_overdue(datetime.now() + timedelta(days=60))
    assert second in escalated
    with pytest.raises(AppError, match=f"flag {second}: changed since you read it"):
        alla.predict(second, "referred", RATIONALE, [], True, api_name="/record_decision")
    card = alla.predict(second, api_name="/open_family")
    assert card["status"] == "escalated"
    done = alla.predict(second, "referred", RATIONALE, [], True, api_name="/record_decision")
    assert done["item_version"] == card["version"] + 1
    assert len(served.queue.decisions(flag_id=first)) == 1


def test_dispute_a_record_of_the_open_family(served: Served) -> None:
    anna = served.client("anna")
    with pytest.raises(AppError, match="open the family card first"):
        anna.predict("E000000001", "wrong family, same surname", api_name="/dispute_record")
    flag = _district_items(served, ("velikiy_novgorod",))[0]
    card = anna.predict(flag, api_name="/open_family")
    event = card["payload"]["timeline"][0]["event_id"]
    with pytest.raises(AppError, match="not a record of family"):
        anna.predict("E999999999", "wrong family, same surname", api_name="/dispute_record")
    with pytest.raises(AppError, match="reason must be at least 10 characters"):
        anna.predict(event, "wrong", api_name="/dispute_record")
    out = anna.predict(event, "wrong family, same surname", api_name="/dispute_record")
    assert out["event_id"] == event
    assert event in served.queue.disputed_event_ids(card["family_id"])


def _raw_call(served: Served, user: str, fn_name: str, data: list[object]) -> dict[str, object]:
    """Call a page handler by fn_index over HTTP, as a browser (or an attacker) can."""
    with httpx.Client(base_url=served.url, timeout=30) as http:
        r = http.post("/login", data={"username": user, "password": USERS[user][0]})
        assert r.status_code == 200
        config = http.get("/config").json()
        fn_index = next(
            d["id"]
            for d in config["dependencies"]
            if d.get("api_name") == fn_name and d.get("api_visibility") == "private"
        )
        r = http.post(
            "/gradio_api/queue/join",
            json={"data": data, "fn_index": fn_index, "session_hash": f"raw-{user}"},
        )
        assert r.status_code == 200, r.text
        with http.stream(
            "GET", "/gradio_api/queue/data", params={"session_hash": f"raw-{user}"}
        ) as s:
            for line in s.iter_lines():
                if line.startswith("data:"):
                    msg = json.loads(line[5:])
                    if msg.get("msg") == "process_completed":
                        return msg
    raise AssertionError("no process_completed message")


def test_page_handlers_check_the_user_too(served: Served) -> None:
    flag = _district_items(served, ("valdaysky",))[0]
    msg = _raw_call(served, "boris", "open_card", [flag])
    assert msg["success"] is False
    shown = json.dumps(msg, ensure_ascii=False)
    # The page speaks the person's language: the district by name, no codes.
    assert "нет доступа к семьям этого района: Валдайский район" in shown
    assert "valdaysky" not in shown and "district" not in shown
    mine = _district_items(served, ("borovichsky",))[0]
    ok = _raw_call(served, "boris", "open_card", [mine])
    assert ok["success"] is True


def test_every_action_is_audited_and_the_chain_verifies(served: Served) -> None:
    log = served.queue.audit_log()
    actions = set(log["action"])
    assert {
        "login",
        "login_failed",
        "view_family",
        "decision",
        "dispute",
        "access_denied",
    } <= actions
    decisions = served.queue.decisions()
    audited = log[log["action"] == "decision"]
    assert sorted(audited["subject"]) == sorted(f"flag {f}" for f in decisions["flag_id"])
    views = log[log["action"] == "view_family"]
    assert set(views["actor"]) >= {"anna", "alla", "boris"}
    assert served.queue.verify_audit_log().ok
