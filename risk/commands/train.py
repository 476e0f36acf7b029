"""The ``risk train`` command: records to a registered, documented, audited model."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from risk.commands._common import user_errors


def register(app: typer.Typer) -> None:
    """Add ``risk train``."""

    @app.command("train")
    @user_errors
    def train_cmd(
        data: Annotated[Path, typer.Option("--data", help="Records directory (Parquet).")],
        config: Annotated[
            Path | None, typer.Option("--config", help="Model definition (TOML).")
        ] = None,
        tracking_uri: Annotated[
            str | None,
            typer.Option(
                "--tracking-uri",
                help="MLflow tracking URI (default: MLFLOW_TRACKING_URI or sqlite:///mlflow.db).",
            ),
        ] = None,
        experiment: Annotated[
            str, typer.Option("--experiment", help="MLflow experiment.")
        ] = "family-distress",
        card_dir: Annotated[
            Path, typer.Option("--card-dir", help="Where to write the model card.")
        ] = Path("models/cards"),
        compare_exclusions: Annotated[
            bool,
            typer.Option(
                "--compare-exclusions/--no-compare-exclusions",
                help="Also train with the excluded features included, for the model card.",
            ),
        ] = True,
        n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap resamples.")] = 200,
    ) -> None:
        """Train, calibrate, evaluate, audit and register a model; write its model card."""
        from features import load_records
        from training._config import load_config
        from training._data import load_truth
        from training._pipeline import train
        from training._tracking import log_training_run
        from training._tracking import tracking_uri as resolve_uri

        start = time.perf_counter()

        def say(stage: str) -> None:
            typer.echo(f"[{time.perf_counter() - start:6.1f} s] {stage}", err=True)

        cfg = load_config(config)
        say(f"loading records from {data}")
        records = load_records(data)
        truth_snapshots, truth_families = load_truth(data)
        manifest_file = data / "manifest.json"
        manifest = json.loads(manifest_file.read_text("utf-8")) if manifest_file.exists() else None
        run = train(
            records,
            cfg,
            truth_snapshots=truth_snapshots,
            truth_families=truth_families,
            compare_exclusions=compare_exclusions,
            n_boot=n_boot,
            progress=say,
        )
        say(f"logging to MLflow at {resolve_uri(tracking_uri)}")
        run_id, version = log_training_run(
            run, uri=tracking_uri, experiment=experiment, manifest=manifest
        )
        try:
            from training._card import write_model_card
        except ImportError:
            card = None
        else:
            card = write_model_card(
                run,
                card_dir / f"{cfg.model.name}-v{version or 'local'}.md",
                version=version,
                run_id=run_id,
                data_manifest=manifest,
            )
        m = run.metrics
        typer.echo(
            f"MLflow run {run_id}; registered {cfg.model.name} version {version} as 'challenger'"
        )
        typer.echo(
            f"test ROC AUC {m['test_roc_auc']:.3f} "
            f"[{m['test_roc_auc_ci_low']:.3f}, {m['test_roc_auc_ci_high']:.3f}]"
            f"  PR AUC {m['test_pr_auc']:.3f}  Brier {m['test_brier']:.4f}  ECE {m['test_ece']:.4f}"
        )
        typer.echo(
            f"precision at capacity {m['test_precision_at_capacity']:.3f}  recall at capacity "
            f"{m['test_recall_at_capacity']:.3f}"
        )
        typer.echo(
            f"baselines: logistic regression AUC {m['logreg_test_roc_auc']:.3f}, "
            f"current-practice rule AUC {m['rule_test_roc_auc']:.3f}"
        )
        if "oracle_test_roc_auc" in m:
            typer.echo(
                f"oracle (synthetic truth) AUC {m['oracle_test_roc_auc']:.3f}, "
                f"Brier {m['oracle_test_brier']:.4f}"
            )
        flagged = run.evaluation.audit
        outside = flagged[flagged["outside_band"] != ""]
        typer.echo(f"fairness audit: {len(outside)} group(s) with ratios outside the band")
        if card is not None:
            typer.echo(f"model card: {card}")
        typer.echo("next: risk promote  (moves 'champion' only if every gate passes)")
