"""Access to the review app, tried on purpose over HTTP against the app served on loopback.

No login, a wrong password, an expired login, another district's family and forged requests are
refused and audited; repeated failures lock the user out for a while; no password appears in
clear in the database, the logs or the command output.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from typer.testing import CliRunner

from family_risk.cli import app as cli
from review_app import API_NAMES
from risk.review import LoginPolicy, ReviewQueue
from risk.review._users import name_fingerprint
from tests.reliability.review_setup import fill_store

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@dataclass(frozen=True)
class Server:
    queue: ReviewQueue
    url: str
    users: dict[str, tuple[str, str, str]]
    db: Path

    def client(self, name: str) -> Client:
        return Client(self.url, auth=(name, self.users[name][0]), verbose=False)

    def login(self, name: str, password: str) -> httpx.Response:
        return httpx.post(
            f"{self.url}login", data={"username": name, "password": password}, timeout=30
        )

    def audit(self, actor: str, action: str) -> list[dict]:
        log = self.queue.audit_log()
        return log[(log["actor"] == actor) & (log["action"] == action)].to_dict("records")


def _serve(tmp: Path, max_age: timedelta) -> Iterator[Server]:
    from review_app import serve

    db = tmp / "review.db"
    url = f"sqlite:///{db}"
    users = fill_store(url, tmp)
    queue = ReviewQueue(url)
    app, served = serve(
        queue, host="127.0.0.1", port=0, block=False, quiet=True, max_login_age=max_age
    )
    try:
        yield Server(queue, served, users, db)
    finally:
        app.close()
        queue.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(tmp_path_factory.mktemp("access"), timedelta(hours=8))


@pytest.fixture(scope="module")
def short_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # Long enough that logging in and one call fit in it on a slow, busy CI machine.
    yield from _serve(tmp_path_factory.mktemp("short"), timedelta(seconds=6))


def _flag_of(server: Server, name: str) -> int:
    district = server.users[name][2]
    return int(server.queue.items(status="open", districts=(district,))["flag_id"].iloc[0])


def _decide(client, flag: int) -> None:
    """Record a valid decision on ``flag`` through the API, as ``client``."""
    client.predict(
        flag, "referred", "A rationale long enough to pass.", [], True, api_name="/record_decision"
    )


def test_no_login_is_refused(server: Server) -> None:
    for name in API_NAMES:
        r = httpx.post(f"{server.url}gradio_api/call/{name}", json={"data": []}, timeout=10)
        assert r.status_code == 401, name
    with pytest.raises(ValueError, match="login"):
        Client(server.url, verbose=False).predict(api_name="/list_queue")


def test_wrong_password_is_refused_and_audited(server: Server) -> None:
    r = server.login("anna", "anna-wrong-horse")
    assert r.status_code == 400 and "access-token" not in r.headers.get("set-cookie", "")
    failed = server.audit("anna", "login_failed")
    assert failed and failed[-1]["details"]["reason"] == "wrong password"
    r = server.login("nobody", "whatever-it-is")
    assert r.status_code == 400
    # A name that is no user is logged as a fingerprint (it may be a mistyped password).
    unknown = server.audit(name_fingerprint("nobody"), "login_failed")
    assert unknown[-1]["details"]["reason"] == "unknown user"
    assert server.login("anna", server.users["anna"][0]).status_code == 200


def test_repeated_failed_logins_are_slowed_down(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = server.queue
    # Longer than the app's one-second answer to a failed login, so the lock outlasts it.
    monkeypatch.setattr(queue, "login_policy", LoginPolicy(base_delay_s=30.0))
    name, district = "carl", server.users["anna"][2]
    queue.add_user(name, "carl-right-password", "specialist", [district])
    policy = queue.login_policy
    for _ in range(policy.free_attempts + 1):
        assert server.login(name, "carl-wrong-password").status_code == 400
    locked = queue.users().set_index("name").loc[name, "locked_until"]
    assert locked is not None and str(locked) != "NaT"
    # Even the right password is refused while the lock lasts, and that is audited too.
    assert server.login(name, "carl-right-password").status_code == 400
    assert server.audit(name, "login_failed")[-1]["details"]["reason"] == "locked out"


def test_another_districts_family_is_refused_and_audited(server: Server) -> None:
    boris = server.client("boris")
    flag = _flag_of(server, "anna")
    with pytest.raises(AppError, match="has no access to district"):
        boris.predict(flag, api_name="/open_family")
    with pytest.raises(AppError, match="has no access to district"):
        _decide(boris, flag)
    subjects = {row["subject"] for row in server.audit("boris", "access_denied")}
    assert {f"view flag {flag}", f"decide flag {flag}"} <= subjects
    assert server.queue.decisions(flag_id=flag).empty


def test_forged_requests_are_refused(server: Server) -> None:
    info = server.client("anna").view_api(return_format="dict", print_info=False)
    assert info["unnamed_endpoints"] == {}
    forged = {"access-token": "forged", "access-token-unsecure": "forged"}
    for fn_index in range(8):
        body = {"data": [], "fn_index": fn_index, "session_hash": "forged-session"}
        r = httpx.post(f"{server.url}gradio_api/queue/join", json=body, timeout=10)
        assert r.status_code == 401, fn_index
        r = httpx.post(f"{server.url}gradio_api/queue/join", json=body, cookies=forged, timeout=10)
        assert r.status_code == 401, fn_index
    # A session of anna's reused by boris is refused before it reaches the app.
    anna = server.client("anna")
    flag = _flag_of(server, "anna")
    anna.predict(flag, api_name="/open_family")
    boris = server.client("boris")
    boris.session_hash = anna.session_hash
    with pytest.raises(httpx.HTTPStatusError, match="403 Forbidden"):
        _decide(boris, flag)
    assert server.queue.decisions(flag_id=flag).empty
    assert server.audit("boris", "access_denied")[-1]["details"]["reason"] == (
        "session of another user"
    )


def test_an_expired_login_is_refused_and_audited(short_server: Server) -> None:
    anna = short_server.client("anna")
    assert anna.predict(api_name="/list_queue")
    time.sleep(6.5)
    with pytest.raises(AppError, match="older than 0:00:06; log in again"):
        anna.predict(api_name="/list_queue")
    denied = short_server.audit("anna", "access_denied")
    assert denied[-1]["details"]["reason"] == "login expired"
    # Logging in again starts a new login.
    assert short_server.client("anna").predict(api_name="/list_queue")


def test_passwords_never_appear_in_clear(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    from review_app import serve

    db = tmp_path / "users.db"
    password = "Tr0ub4dor&3-unique-secret"
    result = CliRunner().invoke(
        cli,
        [
            "users",
            "add",
            "dina",
            "--role",
            "specialist",
            "--district",
            "borovichsky",
            "--password-stdin",
            "--store",
            f"sqlite:///{db}",
        ],
        input=password + "\n",
    )
    assert result.exit_code == 0, result.output
    queue = ReviewQueue(f"sqlite:///{db}")
    app, url = serve(queue, host="127.0.0.1", port=0, block=False, quiet=False)
    try:
        for attempt in (password, password + "x", password):
            httpx.post(f"{url}login", data={"username": "dina", "password": attempt}, timeout=30)
        listed = CliRunner().invoke(cli, ["users", "list", "--store", f"sqlite:///{db}"])
        audit = queue.audit_log().to_json()
    finally:
        app.close()
        queue.close()
    captured = capfd.readouterr()
    texts = {
        "users add output": result.output,
        "users list output": listed.output,
        "server stdout/stderr": captured.out + captured.err,
        "logs": caplog.text,
        "audit log": audit,
    }
    for where, text in texts.items():
        assert password not in text, where
    for file in tmp_path.glob("users.db*"):
        data = file.read_bytes()
        assert password.encode() not in data, file
        assert password.encode("utf-16-le") not in data, file
