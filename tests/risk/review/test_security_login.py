"""Login attacks of issue 17 (2, 6, 8) against the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from datetime import datetime

import pytest

from risk.review import (
    AddressThrottle,
    AuthenticationFailed,
    LoginPolicy,
    ReviewQueue,
    StoreUnavailable,
)
from risk.review._users import MAX_PASSWORD_BYTES, MAX_USER_NAME_LENGTH, name_fingerprint

PASSWORD = "correct horse battery"
NOW = datetime(2025, 7, 1, 9, 0)


@pytest.fixture
def q(store_url: str) -> ReviewQueue:
    queue = ReviewQueue(store_url, login_policy=LoginPolicy(free_attempts=1))
    queue.add_user("anna", PASSWORD, "specialist", ["north"])
    yield queue
    queue.close()


def _last_failure(q: ReviewQueue) -> dict:
    log = q.audit_log()
    row = log[log["action"] == "login_failed"].iloc[-1]
    return {"actor": row["actor"], "subject": row["subject"], **row["details"]}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("x" * 900_000, "user name too long"),
        ("a" * (MAX_USER_NAME_LENGTH + 1), "user name too long"),
        ("an\x00na", "user name not printable"),
        ("anna\n", "user name not printable"),
    ],
    ids=["900KB", "129 chars", "NUL", "newline"],
)
def test_overlong_or_unprintable_names_are_refused_cleanly_and_audited(
    q: ReviewQueue, name: str, reason: str
) -> None:
    size_before = len(q.audit_log())
    # Before: PostgreSQL answered a NUL or a name over 128 characters with a database error
    # (HTTP 500 in the app) and no audit row; SQLite wrote the whole name into the log.
    with pytest.raises(AuthenticationFailed, match=f"login failed: {reason}"):
        q.authenticate(name, "whatever", client="10.0.0.7")
    log = q.audit_log()
    assert len(log) == size_before + 1
    row = _last_failure(q)
    assert row == {
        "actor": name_fingerprint(name),
        "subject": "user ?",
        "reason": reason,
        "client": "10.0.0.7",
    }
    assert len(str(log.iloc[-1].to_dict())) < 1000


def test_an_overlong_password_is_refused_before_hashing_and_audited(q: ReviewQueue) -> None:
    with pytest.raises(AuthenticationFailed, match="unknown user or wrong password"):
        q.authenticate("anna", "p" * (MAX_PASSWORD_BYTES + 1))
    assert _last_failure(q)["reason"] == "password too long"
    assert q.authenticate("anna", PASSWORD).name == "anna"


def test_a_password_typed_as_the_user_name_never_reaches_the_log(q: ReviewQueue) -> None:
    with pytest.raises(AuthenticationFailed):
        q.authenticate("Tr0ub4dor&3-secret", "anna")
    text = q.audit_log().to_string()
    assert "Tr0ub4dor" not in text
    row = _last_failure(q)
    assert row["actor"] == name_fingerprint("Tr0ub4dor&3-secret") and row["subject"] == "user ?"
    assert row["reason"] == "unknown user"


def test_known_users_are_still_named_and_the_client_recorded(q: ReviewQueue) -> None:
    q.authenticate("anna", PASSWORD, client="10.0.0.8")
    log = q.audit_log()
    assert log.iloc[-1]["action"] == "login" and log.iloc[-1]["details"] == {"client": "10.0.0.8"}
    with pytest.raises(AuthenticationFailed):
        q.authenticate("anna", "wrong horse", client="10.0.0.8")
    assert _last_failure(q)["actor"] == "anna"


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real: Callable[..., bytes] = hashlib.scrypt

    def spy(*args: object, **kwargs: object) -> bytes:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", spy)
    return calls


def _lock(q: ReviewQueue) -> None:
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            q.authenticate("anna", "wrong horse", now=NOW)


@pytest.mark.parametrize(
    ("name", "password", "locked"),
    [
        ("anna", PASSWORD, False),
        ("anna", "wrong horse", False),
        ("anna", PASSWORD, True),
        ("anna", "wrong horse", True),
        ("nobody", "wrong horse", False),
        ("", "wrong horse", False),
        ("x" * 5000, "wrong horse", False),
        ("an\x00na", "wrong horse", False),
        ("anna", "p" * 5000, False),
    ],
    ids=["right", "wrong", "locked-right", "locked-wrong", "unknown", "empty", "long", "NUL",
         "long-password"],
)  # fmt: skip
def test_every_login_path_costs_exactly_one_password_hash(
    q: ReviewQueue, scrypt_calls: list[int], name: str, password: str, locked: bool
) -> None:
    # Timing itself belongs in bench/: here, every path must do the same slow work once.
    if locked:
        _lock(q)
    scrypt_calls.clear()
    with contextlib.suppress(AuthenticationFailed):
        q.authenticate(name, password, now=NOW)
    assert len(scrypt_calls) == 1


def test_a_locked_out_user_is_refused_after_the_hash_not_before(
    q: ReviewQueue, scrypt_calls: list[int]
) -> None:
    _lock(q)
    scrypt_calls.clear()
    with pytest.raises(AuthenticationFailed, match="too many failed logins"):
        q.authenticate("anna", PASSWORD, now=NOW)
    assert scrypt_calls == [1]
    assert _last_failure(q)["reason"] == "locked out"


def test_no_login_failure_reaches_the_caller_as_a_store_error(q: ReviewQueue) -> None:
    for name in ("\x00", "a" * 300, "ü" * 200, "anna\x00; DROP TABLE users"):
        with pytest.raises(AuthenticationFailed) as caught:
            q.authenticate(name, "x\x00y")
        assert not isinstance(caught.value, StoreUnavailable)
        assert "SELECT" not in str(caught.value) and "INSERT" not in str(caught.value)


def test_one_address_trying_many_names_is_throttled_and_audited(
    q: ReviewQueue, scrypt_calls: list[int]
) -> None:
    throttle = AddressThrottle(max_failures=3, window_s=600)
    for i in range(3):
        with pytest.raises(AuthenticationFailed, match="unknown user or wrong password"):
            q.authenticate(f"guess{i}", "wrong horse", client="10.0.0.9", throttle=throttle)
    scrypt_calls.clear()
    # Even the right password is refused from that address now, before any hash.
    with pytest.raises(AuthenticationFailed, match="too many failed logins from this address"):
        q.authenticate("anna", PASSWORD, client="10.0.0.9", throttle=throttle)
    assert scrypt_calls == []
    row = _last_failure(q)
    assert row["actor"] == "anna" and row["client"] == "10.0.0.9"
    assert row["reason"] == "too many failed logins from this address"
    # Another address is not affected.
    assert q.authenticate("anna", PASSWORD, client="10.0.0.10", throttle=throttle).name == "anna"
