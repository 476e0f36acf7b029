"""The ``risk promote`` command: move ``champion`` to a registered version if every gate passes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from risk.commands._common import user_errors


def register(app: typer.Typer) -> None:
    """Add ``risk promote``."""

    @app.command("promote")
    @user_errors
    def promote_cmd(
        version: Annotated[
            str | None,
            typer.Option("--version", help="Version number or alias (default: the 'challenger')."),
        ] = None,
        tracking_uri: Annotated[
            str | None,
            typer.Option(
                "--tracking-uri",
                help="MLflow tracking URI (default: MLFLOW_TRACKING_URI or sqlite:///mlflow.db).",
            ),
        ] = None,
        config: Annotated[
            Path | None,
            typer.Option("--config", help="Model definition whose [promotion] gates apply."),
        ] = None,
        model_name: Annotated[
            str, typer.Option("--model-name", help="Registered model name.")
        ] = "family-distress",
        explain: Annotated[
            list[str] | None,
            typer.Option(
                "--explain",
                help="FLAG=WHY: a fairness flag (attribute=group:metric_ratio or "
                "attribute:metric_ratio) you explain for this version, after reading its model "
                "card. Recorded on the version. Repeatable.",
            ),
        ] = None,
    ) -> None:
        """Check a registered version's promotion gates; make it 'champion' if all pass."""
        import re

        from training import PromotionRefused, promote

        explanations: dict[str, str] = {}
        for item in explain or []:
            match = re.fullmatch(r"(\w+(?:=[^:=]+)?:\w+_ratio)=(.*\S.*)", item.strip(), re.S)
            if match is None:
                raise ValueError(
                    f"--explain {item!r}: expected attribute=group:metric_ratio=WHY "
                    "or attribute:metric_ratio=WHY"
                )
            explanations[match.group(1)] = match.group(2).strip()
        try:
            result = promote(
                version,
                model_name=model_name,
                tracking_uri=tracking_uri,
                config=config,
                explanations=explanations or None,
            )
        except PromotionRefused as refused:
            for gate in refused.result.gates:
                typer.echo(str(gate))
            raise
        for gate in result.gates:
            typer.echo(str(gate))
        typer.secho(
            f"promoted {result.model_name} version {result.version} (run {result.run_id}) "
            "to 'champion'",
            fg=typer.colors.GREEN,
        )
