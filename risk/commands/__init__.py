"""Subcommands of the ``risk`` console script, one module each."""

from __future__ import annotations

import importlib

import typer

from risk.commands._common import EXIT_CODES_HELP, exit_code, progress, user_errors

__all__ = ["EXIT_CODES_HELP", "exit_code", "progress", "register_all", "user_errors"]

#: Modules under ``risk.commands`` that define ``register(app)``.
COMMAND_MODULES: tuple[str, ...] = (
    "synth",
    "features",
    "score",
    "audit",
    "users",
    "audit_log",
    "review",
    "docs",
    "demo",
    "ingest",
)


def register_all(app: typer.Typer) -> None:
    """Register every subcommand on ``app``."""
    for name in COMMAND_MODULES:
        importlib.import_module(f"risk.commands.{name}").register(app)
