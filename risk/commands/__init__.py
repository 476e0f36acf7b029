"""The ``risk`` package's own subcommands of the ``risk`` console script, one module each.

``register`` is this package's entry of the ``risk.commands`` entry-point group: the console
script (``family_risk.cli``) discovers it, as it discovers the commands of ``training`` and
``review_app``. Every command shares ``user_errors`` (errors to exit codes) and ``progress``.
"""

from __future__ import annotations

import importlib

import typer

from risk.commands._common import EXIT_CODES_HELP, exit_code, progress, user_errors

__all__ = [
    "COMMAND_MODULES",
    "EXIT_CODES_HELP",
    "exit_code",
    "progress",
    "register",
    "user_errors",
]

#: Modules under ``risk.commands`` that define ``register(app)``.
COMMAND_MODULES: tuple[str, ...] = (
    "synth",
    "features",
    "score",
    "audit",
    "users",
    "audit_log",
    "docs",
    "region",
    "family_report",
    "escalate",
    "ingest",
    "evaluate",
)


def register(app: typer.Typer) -> None:
    """Add the ``risk`` package's commands to ``app`` (the ``risk.commands`` entry point)."""
    for name in COMMAND_MODULES:
        importlib.import_module(f"risk.commands.{name}").register(app)
