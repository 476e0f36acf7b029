"""``risk ingest``: the summary, and exit code 2 naming the rate and the top reasons."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from family_risk.cli import app
from tests.risk.ingest.test_rejects import _extracts


def test_ingest_prints_the_summary(tmp_path: Path) -> None:
    mapping = _extracts(tmp_path)
    out = tmp_path / "records"
    result = CliRunner().invoke(
        app, ["ingest", "--mapping", str(mapping), "--out", str(out), "--max-reject-rate", "0.5"]
    )
    assert result.exit_code == 0, result.output
    assert "school              events               8           2         6" in result.output
    assert "rejected 7 of 15 rows (46.67%); extraction date 2024-03-01" in result.output
    assert "unmapped codes (1; extend the mapping):\n  school.event_type 'ХХХ': 2 rows" in (
        result.output
    )
    assert f"wrote {out}" in result.output
    assert (out / "manifest.json").exists()
    assert (tmp_path / "records-report" / "quality.html").exists()


def test_ingest_fails_on_the_reject_rate(tmp_path: Path) -> None:
    mapping = _extracts(tmp_path)
    out = tmp_path / "records"
    report = tmp_path / "checks"
    result = CliRunner().invoke(
        app,
        ["ingest", "--mapping", str(mapping), "--out", str(out), "--report-dir", str(report)],
    )
    assert result.exit_code == 2
    assert "error: 7 of 15 rows rejected (46.67%), more than --max-reject-rate 0: " in (
        result.output
    )
    assert "unmapped code in school.event_type: 2" in result.output
    assert not out.exists()
    assert (report / "rejects.csv").exists()


def test_ingest_help_lists_the_exit_codes() -> None:
    result = CliRunner().invoke(app, ["ingest", "--help"])
    assert result.exit_code == 0
    assert "Exit codes" in result.output
