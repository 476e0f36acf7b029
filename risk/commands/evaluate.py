"""The ``risk evaluate`` command: does outreach help? Estimates by designs that withhold no help."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from risk.commands import EXIT_CODES_HELP, user_errors


def register(app: typer.Typer) -> None:
    """Add ``risk evaluate``."""

    @app.command("evaluate", epilog=EXIT_CODES_HELP)
    @user_errors
    def evaluate_command(
        data: Annotated[
            Path,
            typer.Option(
                "--data",
                help="Records folder with truth/, treatments.parquet and ranks.parquet "
                "(docs/evaluation.md).",
            ),
        ],
        out: Annotated[
            Path | None, typer.Option("--out", help="Write the HTML report with plots here.")
        ] = None,
        figures: Annotated[
            Path | None, typer.Option("--figures", help="Also save the plots as PNGs here.")
        ] = None,
        seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")] = 0,
    ) -> None:
        """Estimate the effect of outreach with 95% intervals (RD, staggered DiD, naive)."""
        from risk.evaluation import evaluate, format_estimates, read_simulation, write_report

        result = evaluate(read_simulation(data), seed=seed)
        typer.echo(format_estimates(result))
        if out is not None:
            typer.echo(f"wrote {write_report(result, out, figures=figures)}")
