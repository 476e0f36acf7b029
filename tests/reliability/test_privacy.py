"""No row of family data leaves for MLflow: a training run's artifacts, params and tags are scanned.

``risk train`` runs on the committed synthetic sample against a temporary MLflow store; every
artifact file (MLmodel, input example, model card, CSVs, images, the booster, as bytes; Parquet
tables by their values) and the run's params and tags are searched for every ``family_id``,
``member_id`` and ``event_id`` of the data. Aggregates and a synthetic input example only.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from family_risk.cli import app
from features import load_records
from tests.paths import SAMPLE

#: The id shapes of the synthetic records: F000123, M0001234, E000012345.
ID_PATTERN = re.compile(rb"[FME][0-9]{6,9}")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


@pytest.fixture(scope="module")
def ids() -> set[bytes]:
    records = load_records(SAMPLE)
    found = set()
    for table, column in (
        ("families", "family_id"),
        ("members", "member_id"),
        ("events", "event_id"),
    ):
        values = records.table(table)[column].astype(str)
        assert values.str.fullmatch(ID_PATTERN.pattern.decode()).all(), column
        found |= {v.encode() for v in values}
    return found


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    import mlflow

    tmp = tmp_path_factory.mktemp("privacy")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    artifacts = tmp / "artifacts"
    mlflow.MlflowClient(uri).create_experiment(
        "family-distress", artifact_location=artifacts.as_uri()
    )
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--data",
            str(SAMPLE),
            "--tracking-uri",
            uri,
            "--card-dir",
            str(tmp / "cards"),
            "--no-compare-exclusions",
            "--n-boot",
            "20",
        ],
    )
    assert result.exit_code == 0, result.output
    return uri, artifacts, tmp / "cards"


def _leaks(data: bytes, ids: set[bytes]) -> set[bytes]:
    return {m for m in ID_PATTERN.findall(data) if m in ids}


def test_no_artifact_holds_a_family_id(trained: tuple[str, Path, Path], ids: set[bytes]) -> None:
    _, artifacts, cards = trained
    files = [f for root in (artifacts, cards) for f in root.rglob("*") if f.is_file()]
    names = {f.name for f in files}
    assert {"MLmodel", "booster.txt", "model.json"} <= names, sorted(names)
    assert any(f.suffix == ".md" for f in files)
    for f in files:
        leaks = _leaks(f.read_bytes(), ids)
        if f.suffix == ".parquet":
            text = pd.read_parquet(f).astype(str).to_csv().encode()
            leaks |= _leaks(text, ids)
        assert not leaks, f"{f.relative_to(f.parents[2])}: {sorted(leaks)[:5]}"


def test_no_param_or_tag_holds_a_family_id(
    trained: tuple[str, Path, Path], ids: set[bytes]
) -> None:
    import mlflow

    uri, _, _ = trained
    client = mlflow.MlflowClient(uri)
    runs = client.search_runs(
        [e.experiment_id for e in client.search_experiments()], max_results=100
    )
    assert runs
    for run in runs:
        text = repr((run.data.params, run.data.tags, run.info.run_name)).encode()
        assert not _leaks(text, ids), run.info.run_id


def test_the_scan_would_see_an_id(ids: set[bytes]) -> None:
    assert _leaks(b'{"family_id": "F000001"}', ids) == {b"F000001"}
