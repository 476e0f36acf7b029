from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from features import FEATURES, Records, build_features
from risk.commands import docs as docs_command
from risk.commands import features as features_command

# Only the commands under test, so that this file does not depend on the other commands.
app = typer.Typer()
app.callback()(lambda: None)
features_command.register(app)
docs_command.register(app)
runner = CliRunner()


@pytest.fixture(scope="module")
def records_dir(tmp_path_factory: pytest.TempPathFactory, synthetic: Records) -> Path:
    return synthetic.to_parquet(tmp_path_factory.mktemp("records") / "population")


def test_list_prints_the_registry() -> None:
    result = runner.invoke(app, ["features", "--list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["name", "role", "domain", "unit", "description"]
    for spec in FEATURES.values():
        assert any(
            line.startswith(spec.name + " ") and spec.description_en in line for line in lines
        )
    ru = runner.invoke(app, ["features", "--list", "--lang", "ru"])
    assert FEATURES["n_children"].description_ru in ru.output


def test_build_writes_parquet(records_dir: Path, tmp_path: Path, synthetic: Records) -> None:
    out = tmp_path / "x" / "features.parquet"
    args = ["features", "--data", str(records_dir), "--as-of", "2024-06-01", "--out", str(out)]
    result = runner.invoke(app, [*args, "--lookback-days", "730"])
    assert result.exit_code == 0, result.output
    want = build_features(synthetic, "2024-06-01", lookback_days=730)
    assert f"{len(want):,} of 300 families" in result.output
    assert f"{len(FEATURES)} features" in result.output
    got = pd.read_parquet(out)
    pd.testing.assert_frame_equal(got, want, check_index_type=False)
    assert [p.name for p in out.parent.iterdir()] == ["features.parquet"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "2024-06-01"], "give --data DIR and --as-of DATE"),
        (["--as-of", "someday", "--data", "{data}"], "as_of must be a date"),
        (["--as-of", "2024-06-01", "--data", "/no/such/dir"], "no such records directory"),
        (["--as-of", "2024-06-01", "--data", "{data}", "--lookback-days", "0"], "lookback_days"),
        (["--list", "--lang", "de"], "--lang must be"),
    ],
)
def test_errors_are_one_line(records_dir: Path, args: list[str], message: str) -> None:
    args = [a.replace("{data}", str(records_dir)) for a in args]
    result = runner.invoke(app, ["features", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_docs_command_writes_both_files(tmp_path: Path) -> None:
    result = runner.invoke(app, ["docs", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["features.md", "records.md"]
