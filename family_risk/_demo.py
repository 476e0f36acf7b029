"""The ``risk demo`` command: the main job on embedded defaults, start to finish.

It composes every package (records, training, scoring, the review app), so it lives in the
composition root and takes each package's public names only, imported when the command runs.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from risk.commands import user_errors


def register(app: typer.Typer) -> None:
    """Add ``risk demo`` (the ``demo`` entry point of the ``risk.commands`` group)."""

    @app.command("demo")
    @user_errors
    def demo(
        workdir: Annotated[
            Path, typer.Option("--workdir", help="Where the demo keeps its stores.")
        ] = Path("demo"),
        data: Annotated[
            Path | None,
            typer.Option("--data", help="Records to use instead of generating a population."),
        ] = None,
        families: Annotated[
            int, typer.Option("--families", help="Size of the generated population.")
        ] = 76_000,
        serve: Annotated[
            bool, typer.Option("--serve/--no-serve", help="Open the review app at the end.")
        ] = True,
        host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port")] = 7860,
        lang: Annotated[str, typer.Option("--lang", help="ru or en")] = "ru",
        region: Annotated[
            str,
            typer.Option("--region", help="Region pack: a folder or a shipped pack's name."),
        ] = "novgorod",
    ) -> None:
        """Show the population, train with a local MLflow store, score, open the review app."""
        import logging
        import os

        import pandas as pd

        from features import load_records
        from risk.commands.synth import format_manifest
        from risk.regions import load_region
        from training import load_config, load_truth, log_training_run, train

        # MLflow's own progress bars and INFO lines would bury the demo's story.
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        logging.getLogger("mlflow").setLevel(logging.WARNING)
        start = time.perf_counter()

        def step(text: str) -> None:
            typer.secho(f"\n[{time.perf_counter() - start:5.1f} s] {text}", bold=True)

        pack = load_region(region)
        workdir.mkdir(parents=True, exist_ok=True)
        tracking = f"sqlite:///{(workdir / 'mlflow.db').resolve()}"
        store = f"sqlite:///{(workdir / 'review.db').resolve()}"

        if data is None:
            from risk.synth import generate, write_population

            suffix = "" if region == "novgorod" else f"-{pack.code}"  # the default keeps its path
            data = workdir / f"population{suffix}-{families}"
            step(f"1/5 synthetic population: {families:,} families, seed 0 → {data}")
            if not (data / "manifest.json").exists():
                records, truth = generate(families, seed=0, profile=region)
                write_population(records, truth, data)
        else:
            step(f"1/5 records: {data}")
        manifest = json.loads((data / "manifest.json").read_text("utf-8"))
        typer.echo(format_manifest(manifest))
        records = load_records(data)

        step("2/5 training (MLflow store: " + tracking + ")")
        cfg = load_config()
        truth_snapshots, truth_families = load_truth(data)
        run = train(
            records,
            cfg,
            truth_snapshots=truth_snapshots,
            truth_families=truth_families,
            n_boot=50,
            progress=lambda s: typer.echo(f"  … {s}"),
        )
        import mlflow

        mlflow.set_tracking_uri(tracking)
        if mlflow.get_experiment_by_name("family-distress") is None:
            mlflow.create_experiment(
                "family-distress", artifact_location=(workdir / "mlruns").resolve().as_uri()
            )
        run_id, version = log_training_run(run, uri=tracking, manifest=manifest)
        m = run.metrics
        typer.echo(
            f"  version {version}: test AUC {m['test_roc_auc']:.3f} "
            f"(logistic {m['logreg_test_roc_auc']:.3f}, rule {m['rule_test_roc_auc']:.3f}, "
            f"oracle {m.get('oracle_test_roc_auc', float('nan')):.3f}), "
            f"ECE {m['test_ece']:.4f}"
        )

        step("3/5 promotion gates")
        uri = "models:/family-distress@challenger"
        from training import PromotionRefused, promote

        try:
            result = promote(version, tracking_uri=tracking)
        except PromotionRefused as exc:
            result = _explain_and_promote(exc, run, cfg, version, tracking)
        if result is not None:
            for gate in result.gates:
                typer.echo(f"  {gate}")
            typer.echo(f"  version {result.version} is now 'champion'")
            uri = "models:/family-distress@champion"

        step(f"4/5 scoring and filling the review queue ({store})")
        from risk import Screener
        from risk.review import ReviewQueue

        screener = Screener.load(uri, region=pack)
        as_of = records.extraction_date + pd.Timedelta(days=1)
        queue = ReviewQueue(store)
        screening = screener.screen(records, as_of, disputed_from=queue)
        run_name = f"demo-{screener.model.version}-{as_of.date()}"
        enqueued = queue.enqueue(screening, run_name)
        scores = screening.scores
        typer.echo(
            f"  {len(scores):,} families screened as of {as_of.date()}: "
            f"{int(scores['flagged'].sum())} flagged for review, "
            f"{int((scores['tier'] == 'support').sum())} on the waiting list; "
            f"{enqueued.n_flags} flags in the review queue as run {enqueued.run_id}"
            + ("" if enqueued.created else " (already there)")
        )

        step("5/5 review app")
        from review_app import demo_users

        districts = sorted(scores["district"].unique())
        users = demo_users(queue, districts)
        typer.secho("  demo users (shown once):", fg=typer.colors.GREEN)
        for name, password, role, user_districts in users:
            shown = password if password is not None else "(set on an earlier run)"
            typer.echo(f"    {name:<16} {shown:<24} {role:<11} {', '.join(user_districts)}")
        if serve:
            from review_app import serve as serve_app

            typer.echo(f"  open http://{host}:{port}  (Ctrl+C to stop)")
            serve_app(queue, host=host, port=port, lang=lang, region=pack)


def _explain_and_promote(exc: Exception, run: Any, cfg: Any, version: Any, tracking: str) -> Any:
    """Act out the data team's review of a fairness-only refusal, visibly, as a demo.

    Every other refusal stands: the demo then scores with the challenger.
    """
    from training import PromotionRefused, explain_flag, fairness_flags, promote

    assert isinstance(exc, PromotionRefused)
    failed = [g for g in exc.result.gates if not g.passed]
    if any(g.name != "no unexplained fairness flag" for g in failed):
        typer.echo(f"  refused, scoring with the challenger instead:\n  {exc}")
        return None
    audit = run.evaluation.audit
    flags = [
        (flag, ratio, n)
        for flag, ratio, n in fairness_flags(audit, cfg.promotion)
        if explain_flag(flag, audit, cfg.promotion) is None
    ]
    typer.echo(
        "  refused: fairness ratios outside the band need a person's explanation. A data team\n"
        "  reads the model card, then runs `risk promote --explain FLAG=WHY` for each flag it\n"
        "  accepts. This demo records, on its behalf and marked as the demo's, what the card shows:"
    )
    explanations = {}
    for flag, ratio, _n in flags:
        attr_group = flag.rsplit(":", 1)[0]
        attribute, group = attr_group.split("=", 1)
        row = audit[(audit["attribute"] == attribute) & (audit["group"].astype(str) == group)]
        prevalence = float(row["prevalence_ratio"].iloc[0]) if len(row) else float("nan")
        why = (
            f"demo: ratio {ratio:.2f} with the group's registered-outcome rate at "
            f"{prevalence:.2f}x the reference; the card's calibration by group was reviewed"
        )
        explanations[flag] = why
        typer.echo(f"    --explain '{flag}={why}'")
    return promote(version, tracking_uri=tracking, explanations=explanations)
