"""``risk review``: the review app's own subcommand, registered through its entry point."""

from __future__ import annotations

from pathlib import Path

import typer
import typer.main
from typer.testing import CliRunner

from review_app._cli import register


def test_register_adds_risk_review_and_bad_input_exits_2(tmp_path: Path) -> None:
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    group = typer.main.get_group(app)
    assert group.list_commands(typer.Context(group)) == ["review"]
    store = f"sqlite:///{tmp_path / 'review.db'}"
    result = CliRunner().invoke(app, ["review", "--store", store, "--max-login-hours", "0"])
    assert result.exit_code == 2
    assert "error: --max-login-hours must be positive; got 0.0" in result.output


def test_workers_must_not_be_negative(tmp_path: Path) -> None:
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    store = f"sqlite:///{tmp_path / 'review.db'}"
    result = CliRunner().invoke(app, ["review", "--store", store, "--workers", "-1"])
    assert result.exit_code == 2
    assert "error: --workers must be 0 (one per core) or more; got -1" in result.output
