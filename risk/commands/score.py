"""The ``risk score`` command: screen a population, write the scores, fill the review queue.

Every flag of the run enters the review queue in one transaction; the run id is derived from the
model, the as-of date, the data and the options, so running the same command twice enqueues once.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from risk._io import write_atomically
from risk.commands._common import progress, review_store, user_errors

if TYPE_CHECKING:
    import pandas as pd

    from risk import Screener, Screening
    from risk.regions import RegionPack
    from risk.review import EnqueueResult

#: Model used when neither ``--model`` nor ``RISK_MODEL_URI`` says otherwise.
DEFAULT_MODEL_URI = "models:/family-distress@champion"

#: Record tables whose bytes identify the data of a run.
_TABLES = ("families", "members", "events", "outcomes")


def data_fingerprint(data: Path) -> str:
    """Return a SHA-256 of the record tables' bytes (and the manifest, when there is one)."""
    digest = hashlib.sha256()
    for name in (*(f"{t}.parquet" for t in _TABLES), "manifest.json"):
        file = data / name
        if file.is_file():
            digest.update(name.encode())
            with file.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


def default_run_id(
    screening: Screening, fingerprint: str, capacity: int | None, excluded: frozenset[str]
) -> str:
    """Return a run id that is the same whenever the same model screens the same data the same way.

    Examples
    --------
    >>> import types, pandas as pd
    >>> s = types.SimpleNamespace(model=types.SimpleNamespace(name="family-distress",
    ...     version="3"), as_of=pd.Timestamp("2025-01-01"))
    >>> default_run_id(s, "ab" * 32, None, frozenset())  # doctest: +ELLIPSIS
    'family-distress-v3-2025-01-01-...'
    """
    key = "\n".join(
        [
            fingerprint,
            str(capacity),
            *sorted(excluded),
            screening.model.name,
            screening.model.version,
        ]
    )
    short = hashlib.sha256(key.encode()).hexdigest()[:12]
    return f"{screening.model.name}-v{screening.model.version}-{screening.as_of.date()}-{short}"


def format_summary(summary: pd.DataFrame) -> str:
    """Render the per-district summary with a total row.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"district": ["north"], "families": [10], "flagged": [2],
    ...     "capacity": [2], "priority": [2], "support": [3], "universal": [5]})
    >>> print(format_summary(table))
    district  families  flagged  capacity  priority  support  universal
       north        10        2         2         2        3          5
       total        10        2         2         2        3          5
    """
    import pandas as pd

    numbers = [c for c in summary.columns if c != "district"]
    total = pd.DataFrame([{"district": "total", **summary[numbers].sum().to_dict()}])
    return pd.concat([summary, total], ignore_index=True).to_string(index=False)


def register(app: typer.Typer) -> None:
    """Add ``risk score``."""

    @app.command("score")
    @user_errors
    def score_command(
        data: Annotated[Path, typer.Option("--data", help="Records directory (Parquet tables).")],
        as_of: Annotated[str, typer.Option("--as-of", help="Screening date, YYYY-MM-DD.")],
        model: Annotated[
            str | None,
            typer.Option(
                "--model",
                help=f"MLflow model URI or local model directory (default: RISK_MODEL_URI, "
                f"else {DEFAULT_MODEL_URI}).",
            ),
        ] = None,
        out: Annotated[
            Path | None,
            typer.Option(
                "--out",
                help="Scores to this Parquet file; explanations of flagged families to "
                "<stem>.explanations.parquet beside it.",
            ),
        ] = None,
        store: Annotated[
            str | None,
            typer.Option(
                "--store",
                help="Review queue URL (default: RISK_STORE_URL, else sqlite:///risk-review.db).",
            ),
        ] = None,
        run_id: Annotated[
            str | None,
            typer.Option("--run-id", help="Run id (default: from model, date, data and options)."),
        ] = None,
        capacity: Annotated[
            int | None,
            typer.Option(
                "--capacity", help="Flags per district (default: the region pack's capacity)."
            ),
        ] = None,
        region: Annotated[
            str | None,
            typer.Option(
                "--region",
                help="Region pack, a folder or a shipped pack's name: its districts, capacity "
                "and services (default: the shipped novgorod pack).",
                show_default=False,
            ),
        ] = None,
        engine: Annotated[
            str,
            typer.Option(
                "--engine",
                help="pandas (one machine) or spark (extra 'spark'; --data and --out may be "
                "cluster storage URLs; --out and its explanations are Parquet directories).",
            ),
        ] = "pandas",
        on_degraded: Annotated[
            str,
            typer.Option(
                "--on-degraded",
                help="When a source went silent or collapsed in a district: warn (flags still "
                "reach people, with the warning) or fail (exit 2, nothing enqueued).",
            ),
        ] = "warn",
        tracking_uri: Annotated[
            str | None,
            typer.Option(
                "--tracking-uri",
                help="MLflow store to log the run to (default: MLFLOW_TRACKING_URI; none: "
                "not logged). See docs/monitoring.md.",
            ),
        ] = None,
        no_monitor: Annotated[
            bool, typer.Option("--no-monitor", help="Skip the input checks and the run log.")
        ] = False,
    ) -> None:
        """Screen families as of a date, write scores, and put every flag in the review queue.

        Scores are advisory: they order the queue of a human specialist and decide nothing.
        """
        from features import load_records
        from risk import Screener, region_vocabulary
        from risk.regions import check_districts, load_region

        if engine not in ("pandas", "spark"):
            raise typer.BadParameter(f"--engine must be 'pandas' or 'spark'; got {engine!r}")
        uri = model or os.environ.get("RISK_MODEL_URI") or DEFAULT_MODEL_URI
        pack = load_region() if region is None else load_region(region)
        if engine == "spark":
            _score_on_spark(
                data, as_of, uri, out=out, store=store, run_id=run_id, capacity=capacity, pack=pack
            )
            return
        with review_store(store) as queue:
            for step in progress(("records", "model", "screen"), desc="risk score", total=3):
                if step == "records":
                    vocabulary = region_vocabulary(pack)  # the pack's own record types
                    records = load_records(data, vocabulary=vocabulary)
                    # A district the pack lacks would get no services and no capacity of its
                    # own: refuse it now, naming it, rather than screen with a silent gap.
                    check_districts(pack, records.families["district"])
                elif step == "model":
                    screener = Screener.load(uri, region=pack)
                else:
                    screening = screener.screen(
                        records,
                        as_of,
                        capacity=capacity,
                        disputed_from=queue,
                        vocabulary=vocabulary,
                    )
            rid = run_id or default_run_id(
                screening, data_fingerprint(data), capacity, screening.excluded_events
            )
            # Input integrity, drift and expected performance; exits 2 before anything is
            # enqueued when the run is degraded and --on-degraded is fail.
            from risk.commands.monitor import monitor_scoring_run

            missing = monitor_scoring_run(
                records, screening, model_uri=uri, run_id=rid, on_degraded=on_degraded,
                tracking_uri=tracking_uri, enabled=not no_monitor,
            )  # fmt: skip
            # A missing feed must never look like low risk: the cards say which is missing.
            screening.note_missing_sources(missing)
            if out is not None:
                scores_file = out if out.suffix else out.with_suffix(".parquet")
                explained = scores_file.with_name(f"{scores_file.stem}.explanations.parquet")
                write_atomically(scores_file, screening.scores.to_parquet)
                write_atomically(explained, screening.explanations_frame().to_parquet)
            result = queue.enqueue(screening, rid)
        written = (scores_file, explained) if out is not None else None
        typer.echo(describe_capacity(screener, capacity))
        _report(screening, len(screening.scores), "", written, result, rid)


def _score_on_spark(
    data: Path,
    as_of: str,
    uri: str,
    *,
    out: Path | None,
    store: str | None,
    run_id: str | None,
    capacity: int | None,
    pack: RegionPack,
) -> None:
    """``risk score --engine spark``: the same run, with features and scores computed on Spark."""
    from risk import Screener
    from risk._flags import resolve_capacity
    from risk.spark._cli import input_fingerprint, open_records, spark_run_paths
    from risk.spark._score import spark_screen, write_run

    with review_store(store) as queue:
        screener = Screener.load(uri, region=pack)
        spark, records = open_records(data)
        run = spark_screen(
            spark,
            records,
            screener,
            uri,
            as_of,
            capacity=resolve_capacity(capacity, screener.capacity),
            exclude_events=queue.disputed_event_ids(),
        )
        screening = run.screening
        fingerprint = input_fingerprint(spark, records, data_fingerprint)
        rid = run_id or default_run_id(screening, fingerprint, capacity, screening.excluded_events)
        written = write_run(run, spark_run_paths(out)) if out is not None else None
        result = queue.enqueue(screening, rid)
    typer.echo(describe_capacity(screener, capacity))
    _report(screening, screening.n_screened, " on Spark", written, result, rid)


def describe_capacity(screener: Screener, capacity: int | None) -> str:
    """Say which capacity a run used and where it came from.

    Examples
    --------
    >>> import types
    >>> from risk import Capacity
    >>> s = types.SimpleNamespace(capacity=Capacity(25, {"north": 80}, 0.05),
    ...     capacity_source="region pack 'novgorod'")
    >>> describe_capacity(s, None)
    "capacity: region pack 'novgorod': 25 per district (north 80), minimum score 0.05"
    >>> describe_capacity(s, 10)
    'capacity: --capacity: 10 per district, minimum score 0.05'
    """
    cap = screener.capacity
    if capacity is not None:
        return f"capacity: --capacity: {capacity} per district, minimum score {cap.min_score:g}"
    own = ", ".join(f"{d} {n}" for d, n in sorted(cap.per_district.items()))
    return (
        f"capacity: {screener.capacity_source}: {cap.default} per district"
        f"{f' ({own})' if own else ''}, minimum score {cap.min_score:g}"
    )


def _report(
    screening: Screening,
    n_screened: int,
    where: str,
    written: tuple[object, object] | None,
    result: EnqueueResult,
    rid: str,
) -> None:
    """Print what a scoring run did: the model, the population, the summary, the queue."""
    model = screening.model
    typer.echo(
        f"model {model.name} version {model.version}, as of {screening.as_of.date()}: "
        f"{n_screened} families screened{where} "
        f"(scores are advisory; every flag goes to a specialist)"
    )
    if screening.excluded_events:
        typer.echo(f"disputed records left out: {len(screening.excluded_events)}")
    typer.echo(format_summary(screening.summary()))
    if written is not None:
        typer.echo(f"wrote {written[0]} and {written[1]}")
    already = 0 if result.created else result.n_flags
    typer.echo(f"{result.n_flags} flags enqueued for run {rid} (already present: {already})")
