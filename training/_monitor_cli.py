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
        scores: Annotated[
            Path | None,
            typer.Option(
                "--scores",
                help="A run's scores (risk score --out) whose horizon has passed: its realised "
                "precision, recall and calibration by district and group against what was "
                "expected. Needs --data.",
            ),
        ] = None,
        data: Annotated[
            Path | None,
            typer.Option(
                "--data", help="Records holding the outcomes of --scores' horizon (Parquet)."
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
        if scores is not None:
            _realised(scores, data, load_config(config).model.horizon_days)
        if any(b.level == "alert" for b in breaches):
            raise typer.Exit(code=THRESHOLD_EXIT)


def _realised(scores: Path, data: Path | None, horizon_days: int) -> None:
    """Print a matured run's realised performance against what its scores expected."""
    import pandas as pd

    from features import load_records
    from risk.monitoring import matured_labels, realised_performance

    if data is None:
        raise typer.BadParameter("--scores needs --data: the records holding the outcomes")
    frame = pd.read_parquet(scores)
    # Only the outcomes and the families are read: no need to validate every event again.
    records = load_records(data, validate=False)
    labels = matured_labels(
        records.outcomes,
        frame["family_id"],
        frame["as_of"].iloc[0],
        horizon_days=horizon_days,
        extraction_date=records.extraction_date,
    )
    settlement = records.families.set_index("family_id")["settlement"]
    table = realised_performance(frame, labels, groups={"settlement": settlement})
    typer.echo(
        f"realised against expected, run as of {pd.Timestamp(frame['as_of'].iloc[0]).date()} "
        f"({int(labels.sum())} of {len(labels)} families with an outcome in the horizon):"
    )
    shown = ["by", "group", "flagged", "expected_precision", "precision_low", "precision_high"]
    shown += ["realised_precision", "precision_within", "expected_recall", "realised_recall"]
    shown += ["recall_within", "ece"]
    typer.echo(table.loc[:, shown].to_string(index=False, float_format=lambda x: f"{x:.3f}"))
