"""``risk users`` and ``risk audit-log verify``."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from risk.commands import audit_log, users
from risk.review import ReviewQueue

PASSWORD = "a long enough secret"


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    users.register(app)
    audit_log.register(app)
    return app


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'review.db'}"


def test_users_add_from_stdin_and_list(app: typer.Typer, store: str) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["users", "add", "anna", "--role", "specialist", "--district", "north", "--district",
         "south", "--password-stdin", "--store", store],
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "added specialist anna (districts: north, south)" in result.output
    assert PASSWORD not in result.output
    assert ReviewQueue(store).authenticate("anna", PASSWORD).districts == {"north", "south"}
    listed = runner.invoke(app, ["users", "list", "--store", store])
    assert listed.exit_code == 0
    assert "anna\tspecialist\tnorth,south\tfailed logins: 0" in listed.output


def test_users_add_prompts_twice_without_echo(app: typer.Typer, store: str) -> None:
    result = CliRunner().invoke(
        app,
        ["users", "add", "vera", "--role", "supervisor", "--district", "north", "--store", store],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert ReviewQueue(store).get_user("vera").role == "supervisor"


def test_users_add_refusals_are_one_line(app: typer.Typer, store: str) -> None:
    result = CliRunner().invoke(
        app,
        ["users", "add", "anna", "--role", "boss", "--district", "n", "--password-stdin",
         "--store", store],
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "error: user 'anna': role must be one of specialist, supervisor, admin" in result.output


def test_audit_log_verify_names_the_first_broken_row(app: typer.Typer, store: str) -> None:
    q = ReviewQueue(store)
    for name in ("anna", "boris", "vera"):
        q.add_user(name, PASSWORD, "specialist", ["north"])
    runner = CliRunner()
    ok = runner.invoke(app, ["audit-log", "verify", "--store", store])
    assert ok.exit_code == 0 and "audit log OK: 3 rows" in ok.output
    with q._engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_log SET subject = 'user mallory' WHERE seq = 2")
    broken = runner.invoke(app, ["audit-log", "verify", "--store", store])
    assert broken.exit_code == 1
    assert "audit log BROKEN at seq 2: hash mismatch" in broken.output
    q.close()


def test_audit_log_verify_of_a_missing_store_is_an_error(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["audit-log", "verify", "--store", f"sqlite:///{tmp_path / 'nope.db'}"]
    )
    assert result.exit_code == 1 and "no review store at" in result.output
