"""Attacks of issue 17 on the served app over HTTP (2, 7, 8): each now fails."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from risk.review._users import name_fingerprint
from tests.reliability.test_access import Server, _serve

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(tmp_path_factory.mktemp("security"), timedelta(hours=8))


def _cookies(server: Server, name: str) -> httpx.Cookies:
    r = server.login(name, server.users[name][0])
    assert r.status_code == 200
    return r.cookies


def _eventually(find: Any, timeout: float = 10.0) -> Any:
    """The refusals of unauthenticated requests are audited just after the response."""
    deadline = time.monotonic() + timeout
    while True:
        found = find()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_a_stalled_login_does_not_hold_up_other_users(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna = server.client("anna")
    entered, release, served = threading.Event(), threading.Event(), threading.Event()
    real = server.queue.authenticate

    def stalled(*args: Any, **kwargs: Any) -> Any:
        # Stands for a login waiting on a locked store (it froze every request for 6 s).
        entered.set()
        release.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(server.queue, "authenticate", stalled)
    login = threading.Thread(target=server.login, args=("boris", server.users["boris"][0]))
    login.start()
    try:
        assert entered.wait(30), "the login never reached the password check"
        other = threading.Thread(
            target=lambda: anna.predict(api_name="/list_queue") and served.set()
        )
        other.start()
        # Before, the check ran on Gradio's event loop: nothing was served until it returned.
        assert served.wait(30), "another user's request waited for a stalled login"
    finally:
        release.set()
        login.join(60)
        other.join(60)


@pytest.mark.parametrize(
    ("name", "reason"),
    [("x" * 900_000, "user name too long"), ("an\x00na", "user name not printable")],
    ids=["900KB", "NUL"],
)
def test_huge_or_nul_user_names_are_refused_and_audited_small(
    server: Server, name: str, reason: str
) -> None:
    before = len(server.queue.audit_log())
    r = server.login(name, "whatever-it-is")
    assert r.status_code == 400
    log = server.queue.audit_log()
    assert len(log) == before + 1
    row = log.iloc[-1]
    assert row["action"] == "login_failed" and row["actor"] == name_fingerprint(name)
    assert row["details"] == {"reason": reason, "client": "127.0.0.1"}
    assert len(row.to_json()) < 1000


def test_a_password_typed_as_the_user_name_is_not_logged(server: Server) -> None:
    typed = server.users["anna"][0]
    assert server.login(typed, "anna").status_code == 400
    assert typed not in server.queue.audit_log().to_json()
    assert server.audit(name_fingerprint(typed), "login_failed")


def test_another_users_session_results_are_not_served(server: Server) -> None:
    anna = server.client("anna")
    flag = int(server.queue.items(districts=(server.users["anna"][2],))["flag_id"].iloc[0])
    anna.predict(flag, api_name="/open_family")
    boris = _cookies(server, "boris")
    # The attack: boris asks for the events of anna's session by its hash.
    r = httpx.get(
        f"{server.url}gradio_api/queue/data",
        params={"session_hash": anna.session_hash},
        cookies=boris,
        timeout=10,
    )
    assert r.status_code == 403 and "another user" in r.text
    r = httpx.post(
        f"{server.url}gradio_api/queue/join",
        json={"data": [], "fn_index": 0, "session_hash": anna.session_hash},
        cookies=boris,
        timeout=10,
    )
    assert r.status_code == 403
    denied = server.audit("boris", "access_denied")
    assert denied[-1]["details"]["reason"] == "session of another user"
    # Anna's own session still works.
    assert anna.predict(flag, api_name="/open_family")


def test_requests_from_another_origin_are_refused(server: Server) -> None:
    anna = _cookies(server, "anna")
    body = {"data": [], "fn_index": 0, "session_hash": "from-elsewhere"}
    for origin in ("http://localhost:9999", "http://127.0.0.1:1", "null", "https://evil.example"):
        r = httpx.post(
            f"{server.url}gradio_api/queue/join",
            json=body,
            cookies=anna,
            headers={"Origin": origin},
            timeout=10,
        )
        assert r.status_code == 403, origin
    own = server.url.rstrip("/")
    r = httpx.post(
        f"{server.url}gradio_api/queue/join",
        json=body,
        cookies=anna,
        headers={"Origin": own},
        timeout=10,
    )
    assert r.status_code == 200
    denied = server.audit("anna", "access_denied")[-1]
    assert denied["details"]["reason"] == "foreign origin"
    assert denied["subject"] == "request /gradio_api/queue/join from 127.0.0.1"


def test_unauthenticated_requests_are_audited(server: Server) -> None:
    r = httpx.post(f"{server.url}gradio_api/call/list_queue", json={"data": []}, timeout=10)
    assert r.status_code == 401
    found = _eventually(
        lambda: [
            row
            for row in server.audit("anonymous", "access_denied")
            if row["subject"] == "request /gradio_api/call/list_queue from 127.0.0.1"
        ]
    )
    assert found and found[-1]["details"]["reason"] == "not logged in"


def test_logins_record_the_client_address(server: Server) -> None:
    _cookies(server, "anna")
    assert server.audit("anna", "login")[-1]["details"] == {"client": "127.0.0.1"}
