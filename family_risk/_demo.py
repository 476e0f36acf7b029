"""The ``risk demo`` command: the main job on embedded defaults, start to finish.

It composes every package (records, training, scoring, the review app), so it lives in the
composition root and takes each package's public names only, imported when the command runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

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
        from risk import region_vocabulary

        vocabulary = region_vocabulary(pack)  # the region's own record types, if any
        records = load_records(data, vocabulary=vocabulary)

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
            vocabulary=vocabulary,
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
        uri, notice = decide_promotion(version, tracking, say=lambda line: typer.echo(f"  {line}"))

        step(f"4/5 scoring and filling the review queue ({store})")
        from risk import Screener
        from risk.review import ReviewQueue

        screener = Screener.load(uri, region=pack)
        as_of = records.extraction_date + pd.Timedelta(days=1)
        queue = ReviewQueue(store)
        screening = screener.screen(records, as_of, disputed_from=queue, vocabulary=vocabulary)
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
        typer.echo(reopen_commands(store, tracking, host=host, port=port, lang=lang))
        if serve:
            from review_app import serve as serve_app

            typer.echo(f"  open http://{host}:{port}  (Ctrl+C to stop)")
            serve_app(
                queue,
                host=host,
                port=port,
                lang=lang,
                model_uri=uri,
                notice=notice,
                region=pack,
            )


#: Where the demo's models live (``risk.Screener.load`` reads these URIs).
CHAMPION_URI = "models:/family-distress@champion"
CHALLENGER_URI = "models:/family-distress@challenger"


def decide_promotion(
    version: str | None, tracking: str, *, say: Callable[[str], None] = print
) -> tuple[str, str | None]:
    """Promote ``version`` if every gate passes; otherwise keep the challenger and say why.

    The demo never explains a fairness flag on anyone's behalf: an explanation is a person's,
    recorded with their name by ``risk promote --explain FLAG=WHY --by NAME``. A refused
    version is still served, as the challenger, with a notice on the app's banner.

    Returns
    -------
    (model URI, notice)
        ``models:/family-distress@champion`` and ``None`` when promoted; else
        ``models:/family-distress@challenger`` and a notice in Russian and English naming the
        failed gates.
    """
    from training import PromotionRefused, promote

    try:
        result = promote(version, tracking_uri=tracking, by="risk demo")
    except PromotionRefused as refused:
        failed = refused.result.failed
        for gate in refused.result.gates:
            say(str(gate))
        say(
            f"version {refused.result.version} is NOT promoted: {len(failed)} of "
            f"{len(refused.result.gates)} gate(s) failed ({', '.join(g.name for g in failed)})."
        )
        say(
            "A data team reads the model card and either fixes the model or explains each "
            "fairness flag in its own name: risk promote --explain FLAG=WHY --by NAME."
        )
        say("The demo scores with the challenger and says so on the app's banner.")
        names = ", ".join(g.name for g in failed)
        notice = (
            f"Модель версии {refused.result.version} не прошла проверки перед вводом в работу "
            f"(не пройдено: {len(failed)} из {len(refused.result.gates)}: {names}). Очередь "
            "заполнена моделью-кандидатом (challenger), а не основной моделью.\n\n"
            f"Model version {refused.result.version} did not pass its promotion gates "
            f"({len(failed)} of {len(refused.result.gates)} failed: {names}). The queue is "
            "filled by the challenger, not a promoted champion."
        )
        return CHALLENGER_URI, notice
    for gate in result.gates:
        say(str(gate))
    say(f"version {result.version} is now 'champion'")
    return CHAMPION_URI, None


def reopen_commands(store: str, tracking: str, *, host: str, port: int, lang: str) -> str:
    """Return the exact commands that reopen the demo's review app and its MLflow store.

    Examples
    --------
    >>> lines = reopen_commands("sqlite:////d/review.db", "sqlite:////d/mlflow.db",
    ...     host="127.0.0.1", port=7860, lang="ru").splitlines()
    >>> lines[1].strip()
    'risk review --store sqlite:////d/review.db --host 127.0.0.1 --port 7860 --lang ru'
    >>> lines[3].strip()
    'mlflow ui --backend-store-uri sqlite:////d/mlflow.db'
    """
    import shlex

    q = shlex.quote
    return (
        "  to reopen the review app:\n"
        f"    risk review --store {q(store)} --host {q(host)} --port {port} --lang {q(lang)}\n"
        "  to browse the MLflow store:\n"
        f"    mlflow ui --backend-store-uri {q(tracking)}"
    )
