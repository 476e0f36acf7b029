"""The ``risk monitor`` command: the scoring runs side by side, against the model's thresholds.

It lives with training because the thresholds are part of the model definition that training
reads; ``risk score``'s own monitoring step is in ``risk.commands.monitor``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from risk.commands import user_errors
from risk.commands.monitor import MONITOR_EPILOG, THRESHOLD_EXIT, configured_tracking_uri


def register_monitor(app: typer.Typer) -> None:
    """Add ``risk monitor``: the scoring runs against the model definition's thresholds."""

    @app.command("monitor", epilog=MONITOR_EPILOG)
    @user_errors
    def monitor_command(
        tracking_uri: Annotated[
            str | None,
            typer.Option(
                "--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI)."
            ),
        ] = None,
        since: Annotated[
            str | None, typer.Option("--since", help="Only runs as of this date or later.")
        ] = None,
        out: Annotated[
            Path | None,
            typer.Option("--out", help="Write a self-contained HTML report with plots here."),
        ] = None,
        config: Annotated[
            Path | None,
            typer.Option(
                "--config",
                help="Model definition holding the [monitoring] thresholds "
                "(default: models/family_distress.toml).",
            ),
        ] = None,
    ) -> None:
        """Show the scoring runs side by side; exit 3 when a monitoring threshold is crossed."""
        import pandas as pd

        from risk.monitoring import (
            check_thresholds,
            format_runs,
            read_run_figures,
            read_scoring_runs,
            render_html,
            runs_trend_png,
        )
        from training._config import load_config

        uri = configured_tracking_uri(tracking_uri)
        if uri is None:
            raise typer.BadParameter(
                "no tracking URI: give --tracking-uri or set MLFLOW_TRACKING_URI"
            )
        if since is not None:
            try:
                pd.Timestamp(since)
            except ValueError:
                raise typer.BadParameter(
                    f"--since must be a date YYYY-MM-DD; got {since!r}"
                ) from None
        thresholds = load_config(config).monitoring
        runs = read_scoring_runs(uri, since)
        typer.echo(format_runs(runs))
        breaches = check_thresholds(runs, thresholds)
        for b in breaches:
            colour = typer.colors.RED if b.level == "alert" else typer.colors.YELLOW
            typer.secho(f"{b.level}: {b.run}: {b.message}", fg=colour, err=True)
        if out is not None:
            figures: dict[str, bytes] = {}
            if len(runs):
                figures["Drift and expected precision by run"] = runs_trend_png(
                    runs, thresholds.psi_warn, thresholds.psi_alert
                )
                latest = runs.iloc[-1]
                for name, png in read_run_figures(uri, str(latest["mlflow_run_id"])).items():
                    figures[f"Latest run ({latest['run_name']}): {Path(name).stem}"] = png
            out.write_text(render_html(runs, breaches, thresholds, figures), "utf-8")
            typer.echo(f"wrote {out}")
        if any(b.level == "alert" for b in breaches):
            raise typer.Exit(code=THRESHOLD_EXIT)
