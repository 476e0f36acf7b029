"""Training on records of a region's vocabulary: the model gets and keeps its types' features."""

from __future__ import annotations

import dataclasses

import pytest

from risk import Screener, model_vocabulary, region_vocabulary
from risk.synth import generate
from training import load_config, train


@pytest.fixture(scope="module")
def chelyabinsk_run():
    vocabulary = region_vocabulary("chelyabinsk")
    records, truth = generate(1500, seed=11, vocabulary=vocabulary)
    cfg = load_config()
    cfg = dataclasses.replace(cfg, lightgbm=dataclasses.replace(cfg.lightgbm, num_boost_round=40))
    run = train(
        records,
        cfg,
        truth_snapshots=truth.snapshots,
        truth_families=truth.families,
        compare_exclusions=False,
        n_boot=5,
        vocabulary=vocabulary,
    )
    return run, records, vocabulary


def test_the_model_uses_the_new_types_and_records_its_vocabulary(chelyabinsk_run):
    run, _, vocabulary = chelyabinsk_run
    for name in ("mfc_visit", "utility_disconnection_notice"):
        assert f"{name}_n_365d" in run.model.features
    assert model_vocabulary(run.model).names == vocabulary.names
    assert {e["domain"] for e in run.model.metadata["vocabulary"]} == {"material"}


def test_the_trained_model_screens_from_itself_alone(chelyabinsk_run, tmp_path):
    run, records, _ = chelyabinsk_run
    saved = type(run.model).load(run.model.save(tmp_path / "model"))
    screening = Screener(saved).screen(records, run.split.test)
    assert len(screening.scores) > 0
