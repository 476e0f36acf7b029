"""The model registry at the MLflow edge: read versions for ``risk models list`` and ``compare``.

Reading only, apart from :func:`describe_version` (a version's description, written at training
and appended to when ``champion`` moves). Moving ``champion``, forward or back, is
``training/_promote.py``'s alone.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from training._gates import PromotionError
from training._tracking import tracking_uri as resolve_uri
from training._versions import TAG_LIMIT, VersionRecord

if TYPE_CHECKING:
    from mlflow import MlflowClient

#: Where a training run keeps its fairness audit (``training/_tracking.py`` writes it).
AUDIT_ARTIFACT = "fairness/audit.csv"


def client_for(tracking_uri: str | None) -> tuple[MlflowClient, str]:
    """Open an MLflow client on the tracking store (the registry lives in the same store)."""
    from mlflow import MlflowClient

    uri = resolve_uri(tracking_uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri), uri


def _record(client: MlflowClient, mv: Any) -> VersionRecord:
    run_name, metrics, params = "", {}, {}
    if mv.run_id:
        run = client.get_run(mv.run_id)
        run_name = run.info.run_name or ""
        metrics, params = dict(run.data.metrics), dict(run.data.params)
    created = datetime.fromtimestamp(mv.creation_timestamp / 1000, UTC)
    return VersionRecord(
        version=str(mv.version),
        run_id=mv.run_id or "",
        run_name=run_name,
        created=created.isoformat(timespec="seconds"),
        aliases=tuple(sorted(mv.aliases or ())),
        metrics=metrics,
        params=params,
        tags=dict(mv.tags or {}),
        description=mv.description or "",
    )


def _check_model(client: MlflowClient, model_name: str, uri: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(model_name)
    except MlflowException as exc:
        raise PromotionError(
            f"no registered model {model_name!r} in the tracking store {uri}"
        ) from exc


def list_versions(
    model_name: str = "family-distress", *, tracking_uri: str | None = None
) -> list[VersionRecord]:
    """Every registered version of ``model_name``, with its run's metrics, tags and aliases.

    Raises
    ------
    PromotionError
        When the model is not registered in the store.
    """
    client, uri = client_for(tracking_uri)
    _check_model(client, model_name, uri)
    found = client.search_model_versions(f"name = '{model_name}'")
    # search_model_versions leaves aliases out on some stores: read each version in full.
    return [_record(client, client.get_model_version(model_name, mv.version)) for mv in found]


def get_version(
    version: str | int, model_name: str = "family-distress", *, tracking_uri: str | None = None
) -> VersionRecord:
    """One registered version, by number or alias.

    Raises
    ------
    PromotionError
        When the model, version or alias is unknown.
    """
    from mlflow.exceptions import MlflowException

    client, uri = client_for(tracking_uri)
    _check_model(client, model_name, uri)
    wanted = str(version)
    try:
        if wanted.isdigit():
            mv = client.get_model_version(model_name, wanted)
        else:
            mv = client.get_model_version_by_alias(model_name, wanted)
    except MlflowException as exc:
        what = f"version {wanted}" if wanted.isdigit() else f"alias {wanted!r}"
        raise PromotionError(
            f"registered model {model_name!r} has no {what} in the tracking store {uri}"
        ) from exc
    return _record(client, mv)


def read_audit(run_id: str, uri: str) -> pd.DataFrame:
    """Download and read a run's ``fairness/audit.csv``; group labels stay as written."""
    import mlflow
    from mlflow.exceptions import MlflowException

    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=AUDIT_ARTIFACT, dst_path=tmp, tracking_uri=uri
            )
        except (MlflowException, OSError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise PromotionError(
                f"run {run_id} has no readable {AUDIT_ARTIFACT} artifact ({first})"
            ) from exc
        # keep group labels as written ("True", "urban"), never re-parsed as bools or numbers
        return pd.read_csv(Path(local), dtype={"attribute": str, "group": str})


def read_version_audit(
    record: VersionRecord, *, tracking_uri: str | None = None
) -> pd.DataFrame | None:
    """Read the fairness audit of a version's run; ``None`` when the run has none."""
    if not record.run_id:
        return None
    try:
        return read_audit(record.run_id, resolve_uri(tracking_uri))
    except PromotionError:
        return None


def describe_version(
    client: MlflowClient, model_name: str, version: str, text: str, *, append: bool = False
) -> None:
    """Set (or, with ``append``, extend) a version's registry description."""
    if append:
        current = client.get_model_version(model_name, version).description or ""
        text = f"{current.rstrip()}\n{text}" if current.strip() else text
    # Keep the newest lines when a long history outgrows what the store holds.
    client.update_model_version(model_name, version, description=text[-TAG_LIMIT:])
