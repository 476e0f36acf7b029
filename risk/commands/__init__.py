"""Subcommands of the ``risk`` console script, one module each."""

from __future__ import annotations

import importlib

import typer

#: Modules under ``risk.commands`` that define ``register(app)``.
COMMAND_MODULES: tuple[str, ...] = (
    "synth",
    "features",
    "train",
    "promote",
    "score",
    "audit",
    "users",
    "audit_log",
    "review",
    "docs",
    "demo",
)


def register_all(app: typer.Typer) -> None:
    """Register every subcommand on ``app``."""
    for name in COMMAND_MODULES:
        importlib.import_module(f"risk.commands.{name}").register(app)
