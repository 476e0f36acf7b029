"""The ``risk docs`` command: regenerate the documentation rendered from the code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from risk.commands._common import user_errors


def write_docs(out: Path) -> list[Path]:
    """Write ``records.md`` and ``features.md`` into ``out`` and return their paths."""
    from features import render_features_markdown, render_records_markdown

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (
        ("records.md", render_records_markdown()),
        ("features.md", render_features_markdown()),
    ):
        path = out / name
        tmp = path.with_name(f".{name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written


def register(app: typer.Typer) -> None:
    """Add ``risk docs``."""

    @app.command("docs")
    @user_errors
    def docs(
        out: Annotated[
            Path, typer.Option("--out", help="Directory to write the Markdown files to.")
        ] = Path("docs"),
    ) -> None:
        """Regenerate docs/records.md and docs/features.md from the schema and the registry."""
        for path in write_docs(out):
            typer.echo(f"wrote {path}")
