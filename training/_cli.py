"""The ``train`` and ``promote`` subcommands this package contributes to the ``risk`` command.

The ``risk`` console script finds :func:`register` through the ``risk.commands`` entry-point
group, as pytest finds its plugins: ``risk`` never imports this package by name. Each command
imports its heavy dependencies (MLflow, LightGBM) only when it runs.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from risk.commands import EXIT_CODES_HELP, tracking_note, user_errors
from training._monitor_cli import register_monitor

#: Help of every ``--tracking-uri`` option.
_URI_HELP = "MLflow tracking URI (default: MLFLOW_TRACKING_URI or sqlite:///mlflow.db)."


def register(app: typer.Typer) -> None:
    """Add ``risk train``, ``risk promote``, ``risk models ...`` and ``risk monitor`` to ``app``."""
    _register_train(app)
    _register_promote(app)
    register_monitor(app)
    app.add_typer(_models_app(), name="models")


def person(by: str | None, option: str = "--by") -> str:
    """Who acts: ``by``, else ``$USER``; an error naming ``option`` when neither is set.

    Examples
    --------
    >>> person("  anna ")
    'anna'
    """
    import os

    who = (by if by is not None else os.environ.get("USER", "")).strip()
    if not who:
        raise ValueError(f"say who you are: {option} NAME (or set $USER)")
    return who


def _register_train(app: typer.Typer) -> None:
    @app.command("train", epilog=EXIT_CODES_HELP)
    @user_errors
    def train_cmd(
        data: Annotated[
            Path | None, typer.Option("--data", help="Records directory (Parquet).")
        ] = None,
        table: Annotated[
            Path | None,
            typer.Option(
                "--table",
                help="A feature table (Parquet or CSV) instead of records: every numeric column "
                "except the label, groups, id and dropped columns is a model input.",
            ),
        ] = None,
        label: Annotated[
            str | None, typer.Option("--label", help="With --table: the binary label column.")
        ] = None,
        group: Annotated[
            list[str] | None,
            typer.Option(
                "--group", help="With --table: a column to audit by (never a model input)."
            ),
        ] = None,
        id_column: Annotated[
            str | None,
            typer.Option("--id", help="With --table: the row id (tie-breaking only)."),
        ] = None,
        drop: Annotated[
            list[str] | None,
            typer.Option("--drop", help="With --table: a column to ignore entirely."),
        ] = None,
        name: Annotated[
            str | None,
            typer.Option(
                "--name", help="With --table: registered model name (default: the config's)."
            ),
        ] = None,
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
        region: Annotated[
            str | None,
            typer.Option(
                "--region",
                help="With --data: region pack whose districts the records must use and whose "
                "capacity the evaluation assumes (default: the model definition's capacity).",
                show_default=False,
            ),
        ] = None,
        treatments_from: Annotated[
            str | None,
            typer.Option(
                "--treatments-from",
                help="With --data: review store whose treatment record (outreach started, "
                "services delivered) keeps outreach from contaminating labels, as the model "
                "definition's [training] treatment says (default: censor).",
                show_default=False,
            ),
        ] = None,
    ) -> None:
        """Train, calibrate, evaluate, audit and register a model; write its model card.

        From records (``--data DIR``) or from any feature table (``--table FILE --label COL``).
        """
        from features import load_records
        from risk import region_vocabulary
        from training import (
            load_config,
            load_truth,
            log_training_run,
            read_table,
            train,
            train_table,
            write_model_card,
        )
        from training import tracking_uri as resolve_uri

        start = time.perf_counter()

        def say(stage: str) -> None:
            typer.echo(f"[{time.perf_counter() - start:6.1f} s] {stage}", err=True)

        table_options = {
            "--label": label,
            "--group": group,
            "--id": id_column,
            "--drop": drop,
            "--name": name,
        }
        if (data is None) == (table is None):
            raise ValueError(
                "give exactly one of --data DIR (records) or --table FILE (a feature table); got "
                + ("both" if data is not None else "neither")
            )
        cfg = load_config(config)
        manifest = None
        if table is not None:
            if label is None:
                raise ValueError("--table needs --label COL: the binary label column")
            say(f"loading the feature table {table}")
            run = train_table(
                read_table(table),
                label=label,
                groups=tuple(group or ()),
                id_column=id_column,
                drop=tuple(drop or ()),
                config=cfg,
                name=name,
                n_boot=n_boot,
                progress=say,
            )
            for note in run.notes:
                say(f"note: {note}")
        else:
            assert data is not None
            given = [opt for opt, value in table_options.items() if value]
            if given:
                raise ValueError(f"{', '.join(given)} only apply with --table, not with --data")
            say(f"loading records from {data}")
            vocabulary = region_vocabulary(region)  # the pack's own record types, if any
            records = load_records(data, vocabulary=vocabulary)
            if region is not None:
                cfg = _with_region(cfg, region, records.families["district"])
            truth_snapshots, truth_families = load_truth(data)
            manifest_file = data / "manifest.json"
            if manifest_file.exists():
                manifest = json.loads(manifest_file.read_text("utf-8"))
            treatments = None
            if treatments_from is not None:
                from risk.commands import review_store

                with review_store(treatments_from) as queue:
                    treatments = queue.treatment_record()
                say(
                    f"treatment record: {treatments['family_id'].nunique()} families reached "
                    f"by outreach ({cfg.treatment})"
                )
            run = train(
                records,
                cfg,
                truth_snapshots=truth_snapshots,
                truth_families=truth_families,
                compare_exclusions=compare_exclusions,
                n_boot=n_boot,
                progress=say,
                vocabulary=vocabulary,
                treatments=treatments,
            )
        cfg = run.config
        say(f"logging to MLflow at {resolve_uri(tracking_uri)}")
        run_id, version = log_training_run(
            run, uri=tracking_uri, experiment=experiment, manifest=manifest
        )
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
        rule_name = run.baseline_labels.get("rule", "current-practice rule")
        typer.echo(
            f"baselines: logistic regression AUC {m['logreg_test_roc_auc']:.3f}, "
            f"{rule_name} AUC {m['rule_test_roc_auc']:.3f}"
        )
        if "oracle_test_roc_auc" in m:
            typer.echo(
                f"oracle (synthetic truth) AUC {m['oracle_test_roc_auc']:.3f}, "
                f"Brier {m['oracle_test_brier']:.4f}"
            )
        flagged = run.evaluation.audit
        outside = flagged[flagged["outside_band"] != ""]
        typer.echo(f"fairness audit: {len(outside)} group(s) with ratios outside the band")
        typer.echo(f"model card: {card}")
        typer.echo("next: risk promote  (moves 'champion' only if every gate passes)")


def _register_promote(app: typer.Typer) -> None:
    @app.command("promote", epilog=EXIT_CODES_HELP)
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
                "card. Recorded on the version with your name (--by). Repeatable.",
            ),
        ] = None,
        by: Annotated[
            str | None,
            typer.Option("--by", help="Who promotes and explains (default: $USER); recorded."),
        ] = None,
    ) -> None:
        """Check a registered version's promotion gates; make it 'champion' if all pass."""
        import os
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
        # An explanation without a name is refused; a bare promotion records the name if known.
        who = person(by) if explanations else (by or os.environ.get("USER") or None)
        note = tracking_note(tracking_uri, "sqlite:///mlflow.db")
        if note:
            typer.echo(note, err=True)
        try:
            result = promote(
                version,
                model_name=model_name,
                tracking_uri=tracking_uri,
                config=config,
                explanations=explanations or None,
                by=who,
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


def _models_app() -> typer.Typer:
    models = typer.Typer(
        help="Registered versions: list them, compare two, roll 'champion' back.",
        no_args_is_help=True,
    )

    @models.command("list", epilog=EXIT_CODES_HELP)
    @user_errors
    def list_cmd(
        tracking_uri: Annotated[str | None, typer.Option("--tracking-uri", help=_URI_HELP)] = None,
        model_name: Annotated[
            str, typer.Option("--model-name", help="Registered model name.")
        ] = "family-distress",
    ) -> None:
        """Versions, aliases, key metrics, gates, and who moved 'champion' when and why."""
        from training import format_versions, list_versions

        typer.echo(
            format_versions(model_name, list_versions(model_name, tracking_uri=tracking_uri))
        )

    @models.command("compare", epilog=EXIT_CODES_HELP)
    @user_errors
    def compare_cmd(
        a: Annotated[str, typer.Argument(help="A version number or alias.")],
        b: Annotated[str, typer.Argument(help="Another version number or alias.")],
        tracking_uri: Annotated[str | None, typer.Option("--tracking-uri", help=_URI_HELP)] = None,
        model_name: Annotated[
            str, typer.Option("--model-name", help="Registered model name.")
        ] = "family-distress",
    ) -> None:
        """Metrics, fairness audit and feature exclusions of two versions, side by side."""
        from training import format_comparison, get_version, read_version_audit

        va = get_version(a, model_name, tracking_uri=tracking_uri)
        vb = get_version(b, model_name, tracking_uri=tracking_uri)
        typer.echo(
            format_comparison(
                va,
                vb,
                read_version_audit(va, tracking_uri=tracking_uri),
                read_version_audit(vb, tracking_uri=tracking_uri),
            )
        )

    @models.command("rollback", epilog=EXIT_CODES_HELP)
    @user_errors
    def rollback_cmd(
        to: Annotated[str, typer.Option("--to", help="The version to make 'champion' again.")],
        reason: Annotated[str, typer.Option("--reason", help="Why: recorded on both versions.")],
        by: Annotated[
            str | None, typer.Option("--by", help="Who rolls back (default: $USER).")
        ] = None,
        tracking_uri: Annotated[str | None, typer.Option("--tracking-uri", help=_URI_HELP)] = None,
        model_name: Annotated[
            str, typer.Option("--model-name", help="Registered model name.")
        ] = "family-distress",
    ) -> None:
        """Move 'champion' back to a version that was champion before, with who and why."""
        from training import rollback

        result = rollback(
            to,
            reason=reason,
            by=person(by),
            model_name=model_name,
            tracking_uri=tracking_uri,
        )
        came_from = f" from version {result.previous}" if result.previous else ""
        typer.secho(
            f"'champion' of {result.model_name} moved back{came_from} to version "
            f"{result.version} by {result.by} at {result.at}: {result.reason}",
            fg=typer.colors.GREEN,
        )

    return models


def _with_region(cfg: Any, region: str, districts: Any) -> Any:
    """Check the records' districts against a region pack and take its capacity."""
    import dataclasses

    from risk.regions import check_districts, load_region

    pack = load_region(region)
    check_districts(pack, districts)
    cap = pack.capacity
    section = type(cfg.capacity)(cap.default, cap.min_score, dict(cap.per_district))
    return dataclasses.replace(cfg, capacity=section)
