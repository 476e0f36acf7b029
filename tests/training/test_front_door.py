"""The package's front door: its public names, a cheap import, and the commands it contributes."""

from __future__ import annotations

import subprocess
import sys

import typer
from typer.testing import CliRunner

import training


def test_every_public_name_is_defined_once() -> None:
    assert len(set(training.__all__)) == len(training.__all__)
    missing = [name for name in training.__all__ if not hasattr(training, name)]
    assert missing == []


def test_importing_the_package_does_not_import_mlflow() -> None:
    code = "import sys, training; print('mlflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_register_adds_train_and_promote_with_the_exit_codes(cli: typer.Typer) -> None:
    for command in ("train", "promote"):
        result = CliRunner().invoke(cli, [command, "--help"], terminal_width=200)
        assert result.exit_code == 0, result.output
        assert "Exit codes: 0 done" in result.output
