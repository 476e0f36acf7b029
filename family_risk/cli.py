"""The ``risk`` console script, built from the commands every package contributes.

Each package adds its own subcommands through the ``risk.commands`` entry-point group: an entry
point's object is a callable ``register(app: typer.Typer) -> None``. This module discovers them
from the installed metadata and never imports a package by name, the way pytest and MLflow find
their plugins; so the command line stands above every package and none of them imports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import typer
from typer.core import TyperGroup
from typer.models import DefaultPlaceholder

from risk.commands import EXIT_CODES_HELP, quiet_libraries

#: The entry-point group in which packages register their subcommands.
ENTRY_POINT_GROUP = "risk.commands"

#: What ``risk --help`` says first.
HELP = "Early-risk screening of family distress. Scores are advisory; people decide."

#: A failed plugin's name mapped to why it failed (``module:attr: Type: message``).
Failures = Mapping[str, str]


def build_app(plugins: Iterable[EntryPoint] | None = None) -> typer.Typer:
    """Build the ``risk`` command from the ``risk.commands`` entry points.

    Parameters
    ----------
    plugins : iterable of importlib.metadata.EntryPoint, optional
        The entry points to register; default: every installed one of the group
        ``risk.commands``. They are registered in the order of their names, so that the command
        is the same whatever order the metadata lists them in.

    Returns
    -------
    typer.Typer
        The command. A plugin that fails to load or to register is named, with its error, at
        the end of ``risk --help`` and when a command is not found; the other plugins' commands
        work as usual. Every command's ``--help`` ends with the exit codes.

    Examples
    --------
    >>> import typer.main
    >>> names = typer.main.get_command(build_app()).list_commands(None)
    >>> {"synth", "score", "audit-log"} <= set(names)
    True
    """
    found = entry_points(group=ENTRY_POINT_GROUP) if plugins is None else plugins
    failures: dict[str, str] = {}
    app = typer.Typer(
        name="risk",
        help=HELP,
        cls=_root_group(failures),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_root)
    for plugin in sorted(found, key=lambda ep: ep.name):
        # A plugin's import can raise anything; it must not take the other commands down.
        try:
            plugin.load()(app)
        except Exception as exc:
            failures[plugin.name] = f"{plugin.value}: {type(exc).__name__}: {exc}"
    app.info.epilog = EXIT_CODES_HELP + _failures_note(failures)
    _add_epilog(app, EXIT_CODES_HELP)
    return app


def _root() -> None:
    """Early-risk screening of family distress. Scores are advisory; people decide."""


def _failures_note(failures: Failures) -> str:
    """Say which plugins failed to load, for the end of the help and of "no such command"."""
    if not failures:
        return ""
    lines = "\n".join(f"  {name}: {why}" for name, why in sorted(failures.items()))
    return (
        f"\n\nCommands of these '{ENTRY_POINT_GROUP}' plugins failed to load and are "
        f"missing:\n{lines}"
    )


def _root_group(failures: Failures) -> type[TyperGroup]:
    """Return the root group class: commands listed by name, failed plugins named.

    ``failures`` is read when a command is looked up, so it may be filled after this call.
    """

    class RootGroup(TyperGroup):
        def list_commands(self, ctx: Any) -> list[str]:
            # Sorted, not in plugin order, so the help reads the same on every installation.
            return sorted(self.commands)

        def resolve_command(self, ctx: Any, args: list[str]) -> Any:
            try:
                return super().resolve_command(ctx, args)
            except typer.TyperException as exc:  # "No such command ...": perhaps a failed plugin's
                exc.message += _failures_note(failures)
                raise

    return RootGroup


def _add_epilog(app: typer.Typer, epilog: str) -> None:
    """Give every command and group of ``app`` that has no epilog of its own ``epilog``."""
    for command in app.registered_commands:
        if command.epilog is None:
            command.epilog = epilog
    for group in app.registered_groups:
        sub = group.typer_instance
        assert sub is not None
        if isinstance(group.epilog, DefaultPlaceholder) and isinstance(
            sub.info.epilog, DefaultPlaceholder
        ):
            group.epilog = epilog
        _add_epilog(sub, epilog)


def main() -> None:
    """Run the ``risk`` command (third-party INFO lines and progress bars kept out)."""
    quiet_libraries()
    build_app()()


def __getattr__(name: str) -> typer.Typer:
    # ``family_risk.cli.app``, built on first use: importing this module loads no plugin.
    if name == "app":
        app = globals()["app"] = build_app()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
