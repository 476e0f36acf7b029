"""One small training run on the committed sample, shared by the training tests."""

from __future__ import annotations

import dataclasses

import pytest
import typer

from tests.paths import SAMPLE
from training._cli import register


@pytest.fixture(scope="session")
def sample_run():
    """Train the configured model (150 rounds at most) on the committed sample, once."""
    from features import load_records
    from training import load_config, load_truth, train

    cfg = load_config()
    cfg = dataclasses.replace(cfg, lightgbm=dataclasses.replace(cfg.lightgbm, num_boost_round=150))
    ts, tf = load_truth(SAMPLE)
    return train(load_records(SAMPLE), cfg, truth_snapshots=ts, truth_families=tf, n_boot=20)


@pytest.fixture(scope="session")
def cli() -> typer.Typer:
    """An app holding only the commands this package contributes, as ``risk`` would get them."""
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        # With a callback, typer keeps ``train`` and ``promote`` as subcommands.
        pass

    register(app)
    return app
