"""The committed sample, written as agency extracts and ingested back, comes out unchanged."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from features import Records, load_records
from risk.ingest import ingest
from tests.risk.ingest.conftest import write_agency_extracts

KEYS = {
    "families": ["family_id"],
    "members": ["member_id"],
    "events": ["event_id"],
    "outcomes": ["family_id", "outcome_date", "outcome_type"],
}


@pytest.fixture(scope="module")
def ingested(sample: Records, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("roundtrip")
    mapping = write_agency_extracts(sample, root / "extracts")
    out = root / "records"
    ingest(mapping, out, extraction_date="2025-12-31")
    return mapping, out


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, ignore_index=True)


@pytest.mark.parametrize("table", list(KEYS))
def test_round_trip_gives_the_same_rows(
    sample: Records, ingested: tuple[Path, Path], table: str
) -> None:
    back = load_records(ingested[1])
    original = sample.table(table)
    assert_frame_equal(
        _sorted(back.table(table)[list(original.columns)], KEYS[table]),
        _sorted(original, KEYS[table]),
    )
    assert back.extraction_date == sample.extraction_date


def test_manifest_says_where_each_table_came_from(ingested: tuple[Path, Path]) -> None:
    manifest = json.loads((ingested[1] / "manifest.json").read_text("utf-8"))
    assert manifest["extraction_date"] == "2025-12-31"
    police = manifest["sources"]["police"]
    assert police["table"] == "events"
    assert [f["file"] for f in police["files"]] == [
        "events/police/2020-2022.csv",
        "events/police/2023-2025.csv",
    ]
    assert police["rejected"] == 0
    assert police["rows"] == sum(f["rows"] for f in police["files"]) > 0
    assert manifest["sources"]["families"]["files"] == [
        {"file": "registry.xlsx", "rows": 2000, "rejected": 0}
    ]


def test_report_is_written_beside_the_records(ingested: tuple[Path, Path]) -> None:
    report = ingested[1].parent / "records-report"
    summary = json.loads((report / "quality.json").read_text("utf-8"))
    assert summary["rejected"] == 0
    assert "median" in summary["gap_rule"]
    cells = summary["rows_per_source_district_month"]
    assert sum(c["rows"] for c in cells) == 42308
    page = (report / "quality.html").read_text("utf-8")
    assert page.count("data:image/png;base64,") == 1
    assert "<script" not in page
    with (report / "rejects.csv").open(encoding="utf-8", newline="") as fh:
        assert list(csv.reader(fh)) == [["extract", "file", "line", "column", "value", "reason"]]


def test_default_extraction_date_is_the_latest_date_found(
    ingested: tuple[Path, Path], sample: Records, tmp_path: Path
) -> None:
    result = ingest(ingested[0], tmp_path / "out")
    latest = max(
        sample.events["event_date"].max(),
        sample.outcomes["outcome_date"].max(),
        sample.members["birth_date"].max(),
        sample.families["registered_on"].max(),
    )
    assert result.summary["extraction_date"] == latest.date().isoformat()
    assert load_records(tmp_path / "out").extraction_date == latest
