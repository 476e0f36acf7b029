"""``risk users`` administration: disable, enable, unlock, reset-password, roles, districts."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from risk.commands import users
from risk.review import AuthenticationFailed, ReviewQueue

PASSWORD = "a long enough secret"


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    users.register(app)
    return app


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'review.db'}"
    with ReviewQueue(url) as q:
        q.add_user("root", PASSWORD, "admin", [])
        q.add_user("anna", PASSWORD, "specialist", ["shimsky"])
    return url


def _run(app: typer.Typer, *args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["users", *args], input=input)
    return result.exit_code, result.output


def test_disable_enable_and_history_name_the_acting_admin(app: typer.Typer, store: str) -> None:
    assert _run(app, "disable", "anna", "--by", "root", "--store", store) == (0, "disabled anna\n")
    with ReviewQueue(store) as q, pytest.raises(AuthenticationFailed):
        q.authenticate("anna", PASSWORD)
    code, listed = _run(app, "list", "--store", store)
    assert code == 0 and "anna\tspecialist\tshimsky\tfailed logins: 0\tdisabled" in listed
    assert _run(app, "enable", "anna", "--by", "root", "--store", store)[0] == 0
    code, history = _run(app, "history", "anna", "--store", store)
    assert code == 0
    lines = history.splitlines()
    assert [line.split("  ")[1:3] for line in lines[1:]] == [
        ["root", "user_disabled"],
        ["anna", "login_failed"],
        ["root", "user_enabled"],
    ]
    assert lines[0].split("  ")[2:4] == ["user_added", "user anna"]
    assert "reason=disabled" in history and "root  user_enabled  user anna" in history


def test_reset_password_reads_stdin_and_never_takes_it_as_an_argument(
    app: typer.Typer, store: str
) -> None:
    code, out = _run(
        app, "reset-password", "anna", "--password-stdin", "--store", store, input="new secret pw\n"
    )
    assert code == 0 and "new secret pw" not in out
    with ReviewQueue(store) as q:
        assert q.authenticate("anna", "new secret pw").name == "anna"
    code, out = _run(app, "reset-password", "anna", "new secret pw", "--store", store)
    assert code == 2  # no such argument


def test_roles_and_districts_are_checked_against_the_region(app: typer.Typer, store: str) -> None:
    code, out = _run(app, "set-districts", "anna", "atlantis", "--store", store)
    assert code == 2 and "not in region novgorod: atlantis" in out
    code, out = _run(app, "set-districts", "anna", "--add-district", "chudovsky", "--store", store)
    assert (code, out) == (0, "anna: districts chudovsky, shimsky\n")
    code, out = _run(app, "set-districts", "anna", "--remove-district", "shimsky", "--store", store)
    assert (code, out) == (0, "anna: districts chudovsky\n")
    assert _run(app, "set-role", "anna", "supervisor", "--store", store) == (
        0,
        "anna is now supervisor\n",
    )
    code, out = _run(app, "set-role", "anna", "boss", "--store", store)
    assert code == 2 and "role must be one of" in out
    code, out = _run(app, "set-role", "root", "specialist", "--store", store)
    assert code == 2 and "a specialist needs at least one district" in out
    code, out = _run(app, "disable", "root", "--store", store)
    assert code == 2 and "the last active admin" in out
    code, out = _run(app, "unlock", "nobody", "--store", store)
    assert code == 2 and "unknown user 'nobody'" in out


def test_a_command_without_a_store_says_which_one_it_used(
    app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RISK_STORE_URL", raising=False)
    result = CliRunner().invoke(app, ["users", "list"])
    assert result.exit_code == 0
    db = (tmp_path / "risk-review.db").resolve()
    assert f"review store: sqlite:///{db} (new, empty)\n" in result.stderr
    assert result.stdout == "no users\n"
    CliRunner().invoke(
        app, ["users", "add", "anna", "--role", "admin", "--password-stdin"], input=PASSWORD
    )
    again = CliRunner().invoke(app, ["users", "list"])
    assert f"review store: sqlite:///{db} (0 items, 1 user)\n" in again.stderr
    given = CliRunner().invoke(app, ["users", "list", "--store", f"sqlite:///{db}"])
    assert "review store" not in given.stderr


def test_a_command_without_a_tracking_uri_says_which_store_it_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from risk.commands import tracking_note

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    db = (tmp_path / "mlflow.db").resolve()
    assert (
        tracking_note(None, "sqlite:///mlflow.db") == f"tracking store: sqlite:///{db} (new, empty)"
    )
    db.write_bytes(b"")
    assert tracking_note(None, "sqlite:///mlflow.db") == f"tracking store: sqlite:///{db}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow:5000")
    assert tracking_note(None, "sqlite:///mlflow.db") == "tracking store: http://mlflow:5000"
    assert tracking_note("sqlite:///given.db", "sqlite:///mlflow.db") is None
