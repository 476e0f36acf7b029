"""The model card of a real small training run on the committed synthetic sample."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from tests.paths import SAMPLE
from training import OUT_OF_SCOPE_USES, TrainingRun, render_model_card, write_model_card
from training._card import SECTIONS, fmt


@pytest.fixture(scope="module")
def run(sample_run: TrainingRun) -> TrainingRun:
    return sample_run


@pytest.fixture(scope="module")
def card(run: TrainingRun) -> str:
    manifest = json.loads((SAMPLE / "manifest.json").read_text("utf-8"))
    return render_model_card(
        run, version="7", run_id="abc123", data_manifest=manifest, date="2026-01-02"
    )


def test_every_section_in_order(card: str) -> None:
    positions = [card.index(f"\n## {heading}\n") for heading in SECTIONS]
    assert positions == sorted(positions)
    assert card.startswith("# Model card: family-distress v7")
    assert "| Date | 2026-01-02 |" in card and "`abc123`" in card


def test_out_of_scope_uses_are_listed_verbatim(card: str) -> None:
    section = card.split("## Out-of-scope uses")[1].split("\n## ")[0]
    for use in (
        "eligibility",
        "investigation triggers",
        "removal or any sanction",
        "benefit decisions",
    ):
        assert f"\n- {use}\n" in section
    assert len(OUT_OF_SCOPE_USES) == 4


def test_headline_numbers_match_the_run(card: str, run: TrainingRun) -> None:
    m = run.metrics
    auc = (
        f"| ROC AUC | {fmt(m['test_roc_auc'])} [{fmt(m['test_roc_auc_ci_low'])}, "
        f"{fmt(m['test_roc_auc_ci_high'])}] | {fmt(m['logreg_test_roc_auc'])} | "
        f"{fmt(m['rule_test_roc_auc'])} |"
    )
    assert auc in card
    assert f"| ECE (10 equal-mass bins) | {fmt(m['test_ece'], 4)} [" in card
    assert f"test AUC {fmt(m['test_roc_auc'])} vs oracle {fmt(m['oracle_test_roc_auc'])}" in card
    assert f"| test rows | {fmt(run.n_rows['test'])} |" in card


def test_exclusions_comparison_table(card: str, run: TrainingRun) -> None:
    section = card.split("## What the default exclusions cost")[1].split("\n## ")[0]
    assert run.with_exclusions_included is not None
    other = run.with_exclusions_included.metrics
    ours = run.calibration_after
    assert (
        "| test metric | as trained (excluded) | with exclusions included | difference |" in section
    )
    assert f"| ROC AUC | {fmt(ours['roc_auc'])} | {fmt(other['roc_auc'])} |" in section
    assert "| low_income=True |" in section and "| disabled_child=True |" in section


def test_audit_tables_and_truth(card: str, run: TrainingRun) -> None:
    section = card.split("## Quantitative analyses")[1].split("\n## ")[0]
    assert "### Against the true distress" in section and "label bias hides" in section
    li = run.evaluation.audit.query("attribute == 'low_income' and group == 'True'").iloc[0]
    assert (
        f"| True · | {fmt(int(li['n']))} | {fmt(int(li['n_flagged']))} | {fmt(li['flag_rate'])} |"
        in section
    )
    # out-of-band ratios are marked
    assert "⚠" in section


def test_without_comparison_model_or_truth(run: TrainingRun) -> None:
    bare = dataclasses.replace(
        run,
        with_exclusions_included=None,
        evaluation=dataclasses.replace(run.evaluation, audit_distress=None),
        metrics={k: v for k, v in run.metrics.items() if not k.startswith("oracle_")},
    )
    text = render_model_card(bare)
    assert "was not trained for this run" in text
    assert "true distress" not in text.split("## Quantitative analyses")[1].split("\n## ")[0]
    assert "Oracle gap" not in text
    assert "| Version | not registered |" in text


def test_write_is_atomic_and_returns_the_path(run: TrainingRun, tmp_path: Path) -> None:
    out = write_model_card(run, tmp_path / "cards" / "card.md", version="1", date="2026-01-02")
    assert out.read_text("utf-8") == render_model_card(run, version="1", date="2026-01-02")
    assert [p.name for p in out.parent.iterdir()] == ["card.md"]
