"""User administration in the store: disable, enable, unlock, reset, role, districts, history."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
import sqlalchemy as sa

from risk.review import (
    AuthenticationFailed,
    InvalidUser,
    LoginPolicy,
    ReviewQueue,
    UnknownItem,
)

PASSWORD = "correct horse battery"
NOW = datetime(2025, 7, 1, 9, 0)


@pytest.fixture
def q(store_url: str) -> Iterator[ReviewQueue]:
    queue = ReviewQueue(store_url, login_policy=LoginPolicy(free_attempts=1))
    queue.add_user("root", PASSWORD, "admin", [])
    queue.add_user("anna", PASSWORD, "specialist", ["north"])
    yield queue
    queue.close()


def _actions(q: ReviewQueue, name: str) -> list[str]:
    return q.user_history(name)["action"].tolist()


def test_a_disabled_user_is_refused_like_a_wrong_password_until_enabled(q: ReviewQueue) -> None:
    q.disable_user("anna", actor="root")
    assert not q.is_active("anna")
    assert q.users().set_index("name").loc["anna", "active"] == False  # noqa: E712
    with pytest.raises(AuthenticationFailed, match="unknown user or wrong password"):
        q.authenticate("anna", PASSWORD)
    last = q.audit_log().iloc[-1]
    assert (last["action"], last["details"]["reason"]) == ("login_failed", "disabled")
    q.enable_user("anna", actor="root")
    assert q.authenticate("anna", PASSWORD).name == "anna"
    log = q.audit_log()
    changes = log[log["action"].isin(["user_disabled", "user_enabled"])]
    assert changes[["actor", "action", "subject"]].values.tolist() == [
        ["root", "user_disabled", "user anna"],
        ["root", "user_enabled", "user anna"],
    ]
    assert q.verify_audit_log().ok


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real: Callable[..., bytes] = hashlib.scrypt

    def spy(*args: object, **kwargs: object) -> bytes:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", spy)
    return calls


@pytest.mark.parametrize("password", [PASSWORD, "wrong horse"], ids=["right", "wrong"])
def test_a_disabled_users_login_costs_exactly_one_password_hash(
    q: ReviewQueue, scrypt_calls: list[int], password: str
) -> None:
    q.disable_user("anna", actor="root")
    scrypt_calls.clear()
    with pytest.raises(AuthenticationFailed):
        q.authenticate("anna", password)
    assert len(scrypt_calls) == 1


def test_the_last_active_admin_cannot_be_disabled_or_demoted(q: ReviewQueue) -> None:
    with pytest.raises(InvalidUser, match="the last active admin"):
        q.disable_user("root", actor="root")
    q.set_districts("root", ["north"], actor="root")
    with pytest.raises(InvalidUser, match="the last active admin"):
        q.set_role("root", "supervisor", actor="root")
    q.add_user("vera", PASSWORD, "admin", [])
    q.disable_user("root", actor="vera")
    with pytest.raises(InvalidUser, match="the last active admin"):
        q.disable_user("vera", actor="vera")
    q.enable_user("root", actor="vera")
    assert q.disable_user("vera", actor="root").name == "vera"


def test_unknown_users_and_roles_and_districtless_specialists_are_refused(q: ReviewQueue) -> None:
    before = len(q.audit_log())
    for change in (
        lambda: q.disable_user("nobody", actor="root"),
        lambda: q.unlock_user("nobody", actor="root"),
        lambda: q.reset_password("nobody", PASSWORD, actor="root"),
        lambda: q.user_history("nobody"),
    ):
        with pytest.raises(UnknownItem, match="unknown user 'nobody'"):
            change()
    with pytest.raises(InvalidUser, match="role must be one of"):
        q.set_role("anna", "boss", actor="root")
    with pytest.raises(InvalidUser, match="a specialist needs at least one district"):
        q.set_districts("anna", remove=["north"], actor="root")
    with pytest.raises(InvalidUser, match="at least 8 characters"):
        q.reset_password("anna", "short", actor="root")
    assert len(q.audit_log()) == before


def test_unlock_and_reset_password_clear_the_lockout(q: ReviewQueue) -> None:
    for _ in range(3):
        with contextlib.suppress(AuthenticationFailed):
            q.authenticate("anna", "wrong horse", now=NOW)
    with pytest.raises(AuthenticationFailed, match="too many failed logins"):
        q.authenticate("anna", PASSWORD, now=NOW)
    q.unlock_user("anna", actor="root")
    row = q.users().set_index("name").loc["anna"]
    assert row["failed_logins"] == 0 and row["locked_until"] is None
    assert q.authenticate("anna", PASSWORD, now=NOW).name == "anna"
    q.reset_password("anna", "a new long password", actor="root")
    with pytest.raises(AuthenticationFailed):
        q.authenticate("anna", PASSWORD, now=NOW)
    assert q.authenticate("anna", "a new long password", now=NOW).name == "anna"
    text = q.audit_log().to_string()
    assert "a new long password" not in text


def test_role_and_district_changes_are_stored_and_audited(q: ReviewQueue) -> None:
    assert q.set_role("anna", "supervisor", actor="root").role == "supervisor"
    user = q.set_districts("anna", add=["south", "east"], remove=["north"], actor="root")
    assert user.districts == {"south", "east"}
    assert q.set_districts("anna", ["west"], actor="root").districts == {"west"}
    assert q.get_user("anna").districts == {"west"}
    # Nothing changed, nothing audited.
    n = len(q.audit_log())
    q.set_role("anna", "supervisor", actor="root")
    q.set_districts("anna", ["west"], actor="root")
    assert len(q.audit_log()) == n
    history = q.user_history("anna")
    changes = history[history["action"] != "user_added"]
    assert changes[["actor", "action"]].values.tolist() == [
        ["root", "user_role_changed"],
        ["root", "user_districts_changed"],
        ["root", "user_districts_changed"],
    ]
    assert changes["details"].tolist()[0] == {"from": "specialist", "to": "supervisor"}
    assert changes["details"].tolist()[2] == {"from": ["east", "south"], "to": ["west"]}


def test_a_users_history_holds_their_logins_failures_and_account_changes(q: ReviewQueue) -> None:
    q.authenticate("anna", PASSWORD)
    with contextlib.suppress(AuthenticationFailed):
        q.authenticate("anna", "wrong horse")
    q.unlock_user("anna", actor="root")
    assert _actions(q, "anna") == ["user_added", "login", "login_failed", "user_unlocked"]
    assert "login" not in _actions(q, "root")


# -- migration r0004 --------------------------------------------------------------------------


def _migrate(url: str, revision: str, *, down: bool = False) -> None:
    from alembic import command
    from alembic.config import Config

    from risk.review._store import MIGRATIONS_DIR, make_engine

    engine = make_engine(url, connect_timeout=5.0, lock_timeout=30.0)
    with engine.connect() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)
    engine.dispose()


def test_a_store_at_r0003_with_users_upgrades_in_place(store_url: str) -> None:
    _migrate(store_url, "r0003")
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO users (name, role, password_hash, created_at, failed_logins) "
                "VALUES ('old', 'specialist', 'scrypt$x', '2025-01-01 00:00:00', 0)"
            )
        )
        assert "active" not in {c["name"] for c in sa.inspect(conn).get_columns("users")}
    engine.dispose()
    new = ReviewQueue(store_url)  # migrates to the head on first use
    assert new.is_active("old")
    assert new.users()["active"].tolist() == [True]
    new.add_user("root", PASSWORD, "admin", [])
    new.disable_user("old", actor="root")
    assert not new.is_active("old")
    new.close()
    _migrate(store_url, "r0003", down=True)
    _migrate(store_url, "head")
    again = ReviewQueue(store_url)
    assert again.is_active("old")  # the downgrade drops the column; every user comes back active
    again.close()
