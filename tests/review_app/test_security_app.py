"""Refusals of the app that issue 17 found unaudited, and the app's login wiring (8, 2, 7)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from review_app._login import AgedLoginService, LoginAges
from review_app._serve import SessionOwners, threaded_auth
from review_app._service import NotSupervisor
from risk.review import ReviewQueue

PASSWORD = "correct horse battery"


@pytest.fixture
def queue() -> ReviewQueue:
    q = ReviewQueue("sqlite://")
    q.add_user("anna", PASSWORD, "specialist", ["north"])
    q.add_user("vera", PASSWORD, "supervisor", ["north"])
    return q


def test_a_specialist_refused_the_supervisor_view_is_audited(queue: ReviewQueue) -> None:
    ages = LoginAges(queue)
    ages.record("anna")
    ages.record("vera")
    service = AgedLoginService(queue, ages)
    with pytest.raises(NotSupervisor):
        service.supervisor("anna")
    last = queue.audit_log().iloc[-1]
    assert (last["actor"], last["action"], last["subject"]) == (
        "anna",
        "access_denied",
        "supervisor view",
    )
    assert last["details"] == {"reason": "role"}
    assert service.supervisor("vera").name == "vera"


def test_the_password_check_runs_off_the_event_loop() -> None:
    seen: list[tuple[str, str, str | None, int]] = []

    def auth(username: str, password: str, client: str | None = None) -> bool:
        seen.append((username, password, client, threading.get_ident()))
        return username == "anna"

    checked = threaded_auth(auth, failure_delay=0.0)

    async def main() -> tuple[bool, bool, int]:
        return await checked("anna", "pw"), await checked("boris", "pw"), threading.get_ident()

    ok, refused, loop_thread = asyncio.run(main())
    assert (ok, refused) == (True, False)
    assert all(thread != loop_thread for *_, thread in seen)


def test_a_session_belongs_to_the_user_who_started_it() -> None:
    owners = SessionOwners(per_user=2)
    assert owners.claim("s1", "anna") and owners.claim("s1", "anna")
    assert not owners.claim("s1", "boris")
    # A user's flood of sessions forgets only that user's oldest ones, never another's.
    for i in range(10):
        owners.claim(f"b{i}", "boris")
    assert not owners.claim("s1", "boris")


def test_a_failed_login_is_answered_late(monkeypatch: pytest.MonkeyPatch) -> None:
    import anyio

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(anyio, "sleep", sleep)
    checked = threaded_auth(lambda u, p, c=None: u == "anna", failure_delay=1.5)

    async def main() -> tuple[bool, bool]:
        return await checked("anna", "pw"), await checked("boris", "pw")

    assert asyncio.run(main()) == (True, False)
    assert slept == [1.5]
