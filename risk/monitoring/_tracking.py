"""The MLflow edge: log a scoring run, read the runs back. MLflow is imported when called."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from features import UnavailableError
from risk.monitoring._record import EXPERIMENT, KIND_TAG, ScoringRunRecord

if TYPE_CHECKING:
    from mlflow import MlflowClient

#: Columns of :func:`read_scoring_runs`.
RUN_COLUMNS: tuple[str, ...] = (
    "mlflow_run_id",
    "run_name",
    "started",
    "as_of",
    "model_version",
    "region",
    "population",
    "flags",
    "degraded",
    "missing_feeds",
    "score_psi",
    "max_feature_psi",
    "max_psi_feature",
    "expected_precision",
    "expected_recall",
)


_PROGRESS_BAR = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"


class TrackingError(UnavailableError):
    """The tracking store cannot be reached or read."""


def _client(tracking_uri: str) -> MlflowClient:
    try:
        from mlflow import MlflowClient
    except ImportError:
        raise TrackingError(
            "monitoring needs mlflow: pip install 'family-risk[mlflow]' (or mlflow)"
        ) from None
    return MlflowClient(tracking_uri=tracking_uri)


def _artifact_location(tracking_uri: str) -> str | None:
    """Beside a local SQLite store, not in whatever directory the command runs from."""
    if tracking_uri.startswith("sqlite:///"):
        db = Path(tracking_uri.removeprefix("sqlite:///"))
        return (db.resolve().parent / "mlartifacts").as_uri()
    return None


def _experiment_id(client: MlflowClient, tracking_uri: str, *, create: bool) -> str | None:
    found = client.get_experiment_by_name(EXPERIMENT)
    if found is not None:
        return str(found.experiment_id)
    if not create:
        return None
    return str(client.create_experiment(EXPERIMENT, _artifact_location(tracking_uri)))


def log_scoring_run(record: ScoringRunRecord, *, tracking_uri: str) -> str:
    """Log one scoring run to the MLflow experiment ``family-distress-screening``.

    Parameters
    ----------
    record : ScoringRunRecord
        From :func:`scoring_run_record`: params (model name, version and URI, as-of date,
        region, run id), metrics (population, flags per district, score quantiles, score PSI,
        largest feature PSI, degraded 0/1, expected precision and recall at capacity), tags
        (degraded, missing feeds), tables and figures (counts and distributions only).
    tracking_uri : str
        The MLflow tracking URI.

    Returns
    -------
    str
        The MLflow run id.
    """
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.exceptions import MlflowException

    client = _client(tracking_uri)
    try:
        experiment = _experiment_id(client, tracking_uri, create=True)
        assert experiment is not None
        run = client.create_run(experiment, run_name=record.name, tags=record.tags)
        rid = run.info.run_id
        client.log_batch(
            rid,
            metrics=[Metric(k, v, 0, 0) for k, v in record.metrics.items()],
            params=[Param(k, v) for k, v in record.params.items()],
            tags=[RunTag(k, v) for k, v in record.tags.items()],
        )
        with tempfile.TemporaryDirectory(prefix="risk-monitor-") as tmp:
            for name, table in record.tables.items():
                file = Path(tmp) / name
                file.parent.mkdir(parents=True, exist_ok=True)
                table.to_csv(file, index=False)
            for name, png in record.figures.items():
                file = Path(tmp) / name
                file.parent.mkdir(parents=True, exist_ok=True)
                file.write_bytes(png)
            client.log_artifacts(rid, tmp)
        client.set_terminated(rid)
    except MlflowException as exc:
        raise TrackingError(f"{tracking_uri}: cannot log the scoring run: {exc.message}") from None
    return str(rid)


def _number(values: dict[str, Any], key: str) -> float:
    value = values.get(key)
    return float(value) if value is not None else float("nan")


def read_scoring_runs(tracking_uri: str, since: object | None = None) -> pd.DataFrame:
    """Read the scoring runs of the tracking store, oldest as-of date first.

    Parameters
    ----------
    tracking_uri : str
        The MLflow tracking URI.
    since : date-like, optional
        Only runs whose as-of date is on or after it.

    Returns
    -------
    pandas.DataFrame
        One row per run, :data:`RUN_COLUMNS`; empty when the experiment does not exist.
    """
    from mlflow.exceptions import MlflowException

    client = _client(tracking_uri)
    try:
        experiment = _experiment_id(client, tracking_uri, create=False)
        runs = (
            []
            if experiment is None
            else client.search_runs(
                [experiment], filter_string=f"tags.`{KIND_TAG}` = 'scoring-run'", max_results=5000
            )
        )
    except MlflowException as exc:
        raise TrackingError(
            f"{tracking_uri}: cannot read the scoring runs: {exc.message}"
        ) from None
    rows = []
    for run in runs:
        m, p, t = run.data.metrics, run.data.params, run.data.tags
        rows.append(
            {
                "mlflow_run_id": run.info.run_id,
                "run_name": run.info.run_name,
                "started": pd.Timestamp(run.info.start_time, unit="ms"),
                "as_of": pd.Timestamp(p.get("as_of", "NaT")),
                "model_version": p.get("model_version", ""),
                "region": p.get("region", ""),
                "population": _number(m, "population"),
                "flags": _number(m, "flags"),
                "degraded": bool(m.get("degraded", 0.0)),
                "missing_feeds": t.get("missing_feeds", ""),
                "score_psi": _number(m, "score_psi"),
                "max_feature_psi": _number(m, "max_feature_psi"),
                "max_psi_feature": t.get("max_psi_feature", ""),
                "expected_precision": _number(m, "expected_precision"),
                "expected_recall": _number(m, "expected_recall"),
            }
        )
    out = pd.DataFrame(rows, columns=list(RUN_COLUMNS))
    if since is not None and len(out):
        out = out.loc[out["as_of"] >= pd.Timestamp(since)]  # type: ignore[arg-type]
    return out.sort_values(["as_of", "started"], kind="stable").reset_index(drop=True)


def read_run_figures(tracking_uri: str, mlflow_run_id: str) -> dict[str, bytes]:
    """Read the PNG figures logged with one scoring run, by artifact path."""
    from mlflow.exceptions import MlflowException

    client = _client(tracking_uri)
    # A download progress bar per run would garble the terminal table printed before it.
    previous = os.environ.get(_PROGRESS_BAR)
    os.environ[_PROGRESS_BAR] = "false"
    try:
        with tempfile.TemporaryDirectory(prefix="risk-monitor-") as tmp:
            local = Path(client.download_artifacts(mlflow_run_id, "plots", tmp))
            return {f"plots/{f.name}": f.read_bytes() for f in sorted(local.glob("*.png"))}
    except (MlflowException, OSError):
        return {}
    finally:
        if previous is None:
            os.environ.pop(_PROGRESS_BAR, None)
        else:
            os.environ[_PROGRESS_BAR] = previous
