"""The monitoring step of ``risk score`` (``risk monitor`` itself is training's command).

``risk score`` checks its input records before anything is enqueued and logs the run to MLflow;
``risk monitor`` reads those runs back, side by side, and exits 3 when a threshold of the model
definition is crossed, so that a scheduler can alert. See ``docs/monitoring.md``.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from risk.commands import EXIT_CODES_HELP

if TYPE_CHECKING:
    from features import Records
    from risk import Screening
    from risk.monitoring import Reference

#: Exit code of ``risk monitor`` when a run crosses an alert threshold.
THRESHOLD_EXIT = 3

#: Choices of ``risk score --on-degraded``.
ON_DEGRADED = ("warn", "fail")

MONITOR_EPILOG = (
    f"{EXIT_CODES_HELP} {THRESHOLD_EXIT} (risk monitor) a threshold of the model definition's "
    "[monitoring] section was crossed: a PSI alert, too many degraded runs, or expected "
    "precision too low."
)


def configured_tracking_uri(option: str | None) -> str | None:
    """``--tracking-uri``, else ``MLFLOW_TRACKING_URI``, else None (monitoring is not logged)."""
    return option or os.environ.get("MLFLOW_TRACKING_URI") or None


_MODELS_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))/?$")
_RUNS_URI = re.compile(r"^runs:/(?P<run>[^/]+)/")


def find_reference(model_uri: str) -> Reference | None:
    """Load the training reference of a model, if it has one.

    A local model directory holds ``reference.json`` itself (or in ``artifacts/risk_model``);
    a model of the MLflow registry (``models:/NAME@ALIAS``, ``models:/NAME/VERSION``) or of a
    run (``runs:/RUN_ID/...``) has it as an artifact ``reference.json`` of its training run.
    """
    from risk.monitoring import REFERENCE_FILE, load_reference

    root = Path(model_uri)
    for folder in (root, root / "artifacts" / "risk_model"):
        if (folder / REFERENCE_FILE).is_file():
            return load_reference(folder / REFERENCE_FILE)
    models, runs = _MODELS_URI.match(model_uri), _RUNS_URI.match(model_uri)
    if root.exists() or (models is None and runs is None):
        return None
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    try:
        if models is not None:
            name = models["name"]
            version = (
                client.get_model_version_by_alias(name, models["alias"])
                if models["alias"]
                else client.get_model_version(name, models["version"])
            )
            run_id = str(version.run_id)
        else:
            run_id = runs["run"] if runs is not None else ""
        with tempfile.TemporaryDirectory(prefix="risk-reference-") as tmp:
            return load_reference(client.download_artifacts(run_id, REFERENCE_FILE, tmp))
    except (MlflowException, OSError):
        return None


def region_of(districts: set[str]) -> tuple[str, Mapping[str, str]]:
    """Code and English district names of the shipped region pack that holds ``districts``."""
    from risk.regions import load_region, shipped_regions

    for name in shipped_regions():
        pack = load_region(name)
        if districts <= set(pack.district_codes):
            return pack.code, {d.code: d.name_en for d in pack.districts}
    return "unknown", {}


def monitor_scoring_run(
    records: Records,
    screening: Screening,
    *,
    model_uri: str,
    run_id: str,
    on_degraded: str,
    tracking_uri: str | None,
    enabled: bool = True,
) -> dict[str, list[str]]:
    """Check a scoring run's inputs, log the run, and stop it when degraded and asked to.

    Called by ``risk score`` after screening and before enqueueing. The run is logged first, so a
    run refused as degraded (``--on-degraded fail``, exit 2) is still on record in MLflow.
    Returns the sources missing per district (empty when the run is not degraded), which the
    screening's payloads then name on the families' cards.
    """
    from risk.monitoring import (
        EXPERIMENT,
        check_integrity,
        drift_report,
        expected_performance,
        log_scoring_run,
        missing_sources_by_district,
        scoring_run_record,
    )

    if on_degraded not in ON_DEGRADED:
        raise typer.BadParameter(f"--on-degraded must be 'warn' or 'fail'; got {on_degraded!r}")
    if not enabled:
        typer.echo("monitoring: off (--no-monitor): inputs not checked, run not logged")
        return {}
    reference = find_reference(model_uri)
    scores = screening.scores
    region, names = region_of(set(scores["district"].astype(str)))
    integrity = check_integrity(
        records,
        screening.as_of,
        reference=reference,
        lookback_days=screening.model.lookback_days,
        district_names=names,
    )
    for problem in integrity.problems:
        typer.secho(f"warning: {problem.message('en')}", fg=typer.colors.YELLOW, err=True)
    drift = None
    if reference is None:
        typer.echo(f"monitoring: no training reference for {model_uri}: drift not computed")
    else:
        drift = drift_report(
            reference.features, reference.score, screening.features, scores["score"]
        )
    uri = configured_tracking_uri(tracking_uri)
    if uri is None:
        typer.echo("monitoring not logged: no tracking URI (--tracking-uri or MLFLOW_TRACKING_URI)")
    else:
        record = scoring_run_record(
            scores=scores,
            integrity=integrity,
            drift=drift,
            performance=expected_performance(scores),
            reference=reference,
            model_name=screening.model.name,
            model_version=screening.model.version,
            model_uri=model_uri,
            as_of=screening.as_of,
            region=region,
            run_id=run_id,
        )
        log_scoring_run(record, tracking_uri=uri)
        typer.echo(f"monitoring logged: MLflow experiment {EXPERIMENT}, run {record.name}")
    if not integrity.degraded:
        return {}
    by_district = missing_sources_by_district(integrity)
    missing = "; ".join(f"{d}: {', '.join(s)}" for d, s in by_district.items())
    if on_degraded == "fail":
        typer.secho(
            f"error: degraded run ({missing}); nothing enqueued (--on-degraded fail)",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(code=2)
    typer.secho(
        f"warning: degraded run ({missing}): flags still go to specialists; the cards of "
        "families in these districts say that a source is missing",
        fg=typer.colors.YELLOW,
        err=True,
    )
    return by_district
