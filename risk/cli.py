"""The ``risk`` console script: the composition root.

It is the one place allowed to import every package; each command's body lives in
``risk/commands/<name>.py`` and imports its heavy dependencies only when it runs.
"""

from __future__ import annotations

import typer

from risk.commands import register_all

app = typer.Typer(
    name="risk",
    help="Early-risk screening of family distress. Scores are advisory; people decide.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Early-risk screening of family distress. Scores are advisory; people decide."""


register_all(app)


def main() -> None:
    """Run the ``risk`` command."""
    app()
