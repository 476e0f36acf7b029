"""The ``risk`` command: built from the ``risk.commands`` entry points, errors as exit codes."""

from __future__ import annotations

import socket
import subprocess
import sys
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import typer
import typer.main
from typer.testing import CliRunner

from family_risk.cli import ENTRY_POINT_GROUP, app, build_app
from risk.commands import EXIT_CODES_HELP

#: Every command of the ``risk`` console script, whichever package contributes it.
EXPECTED_COMMANDS = {
    "synth",
    "features",
    "train",
    "promote",
    "score",
    "audit",
    "users",
    "audit-log",
    "review",
    "family-report",
    "region",
    "monitor",
    "escalate",
    "ingest",
    "docs",
    "evaluate",
    "demo",
    "models",
    "simulate",
}

#: The plugins that contribute them.
EXPECTED_PLUGINS = {
    "risk": "risk.commands:register",
    "training": "training._cli:register",
    "review_app": "review_app._cli:register",
    "demo": "family_risk._demo:register",
    "simulate": "family_risk._simulate:register",
}

runner = CliRunner()


def _plugin(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def _command_names(built: typer.Typer) -> list[str]:
    group = typer.main.get_group(built)
    return group.list_commands(typer.Context(group))


def test_the_console_script_is_the_composition_root() -> None:
    (script,) = entry_points(group="console_scripts", name="risk")
    assert script.value == "family_risk.cli:main"


def test_each_package_contributes_its_commands_through_the_entry_point_group() -> None:
    installed = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert installed == EXPECTED_PLUGINS


def test_every_command_is_registered_and_every_plugin_loads() -> None:
    assert set(_command_names(app)) == EXPECTED_COMMANDS
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    assert "failed to load" not in result.output


def test_commands_are_listed_by_name_whatever_the_order_of_the_plugins() -> None:
    plugins = [_plugin(name, value) for name, value in EXPECTED_PLUGINS.items()]
    forward = _command_names(build_app(plugins))
    backward = _command_names(build_app(reversed(plugins)))
    assert forward == backward == sorted(forward)


def test_a_plugin_that_fails_to_load_is_named_and_the_others_still_work() -> None:
    built = build_app(
        [
            _plugin("broken", "no_such_module_here:register"),
            _plugin("risk", EXPECTED_PLUGINS["risk"]),
        ]
    )
    assert "synth" in _command_names(built)
    shown = runner.invoke(built, ["--help"], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    assert "broken: no_such_module_here:register: ModuleNotFoundError" in shown.output
    missing = runner.invoke(built, ["nosuch"], terminal_width=200)
    assert missing.exit_code == 2
    assert "No such command 'nosuch'" in missing.output
    assert "broken: no_such_module_here:register" in missing.output
    works = runner.invoke(built, ["features", "--list"])
    assert works.exit_code == 0, works.output
    assert "broken" not in works.output


def _help_pages(group: typer.Typer) -> list[list[str]]:
    """The argument lists that show the help of the root and of every command and group."""
    root = typer.main.get_group(group)
    pages = [["--help"]]

    def walk(command: object, path: list[str]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            pages.append([*path, name, "--help"])
            walk(sub, [*path, name])

    walk(root, [])
    return pages


def test_every_help_ends_with_the_exit_codes() -> None:
    pages = _help_pages(app)
    assert ["users", "add", "--help"] in pages
    words = EXIT_CODES_HELP.split()
    for args in pages:
        result = runner.invoke(app, args, terminal_width=200)
        assert result.exit_code == 0, (args, result.output)
        shown = " ".join(result.output.replace("│", " ").split())
        assert " ".join(words) in shown, args


def test_bad_input_exits_2() -> None:
    result = runner.invoke(app, ["features", "--list", "--lang", "fr"])
    assert result.exit_code == 2
    assert "error: --lang must be 'en' or 'ru'; got 'fr'" in result.output


def test_a_review_store_that_does_not_exist_exits_1(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'review.db'}"
    result = runner.invoke(app, ["audit-log", "verify", "--store", store])
    assert result.exit_code == 1
    assert result.output.startswith("error: ")
    assert "Traceback" not in result.output


def test_an_unreachable_database_server_exits_1() -> None:
    with socket.socket() as sock:  # a port nobody listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        store = f"postgresql+psycopg://nobody:secret@127.0.0.1:{port}/review"
        result = runner.invoke(app, ["users", "list", "--store", store])
    assert result.exit_code == 1
    assert "unavailable" in result.output
    assert "secret" not in result.output


def test_the_demo_imports_nothing_heavy_until_it_runs() -> None:
    code = (
        "import sys, family_risk._demo, family_risk.cli; "
        "print(' '.join(m for m in ('training', 'review_app', 'mlflow', 'gradio') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == ""
