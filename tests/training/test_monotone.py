"""Monotone constraints: declared in the model definition, validated, kept by the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training import ConfigError, TrainingRun, load_config, render_model_card
from training._config import LightGBMSection
from training._monotone import constrained_params, constraint_vector

CONFIG = load_config()


def _with_lightgbm(tmp_path: Path, extra: str) -> Path:
    text = Path(CONFIG.path).read_text("utf-8")
    cut = text.index("monotone_increasing = [")
    end = text.index("[calibration]")
    out = tmp_path / "model.toml"
    out.write_text(text[:cut] + extra + "\n\n" + text[end:], "utf-8")
    return out


def test_the_definition_constrains_problem_signals_in_their_direction() -> None:
    lgb = CONFIG.lightgbm
    assert "academic_failure_n_365d" in lgb.monotone_increasing
    assert "parent_serious_illness_n_90d" in lgb.monotone_increasing
    assert "utility_debt_roubles_latest" in lgb.monotone_increasing
    assert "domestic_disturbance_call_days_since" in lgb.monotone_decreasing
    for free in ("benefit_application_n_365d", "material_aid_roubles_365d", "n_children"):
        assert free not in lgb.monotone_increasing + lgb.monotone_decreasing
    assert not any(f.endswith("_trend") for f in lgb.monotone_increasing)
    # The constraints are not LightGBM parameters of their own: they become a vector per fit.
    assert "monotone_increasing" not in lgb.params


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ('monotone_increasing = ["no_such_feature"]', r"\[lightgbm\] monotone_increasing names no"),
        ('monotone_decreasing = ["police_*_days_since"]', r"monotone_decreasing .*police_\*"),
        (
            'monotone_increasing = ["job_loss_n_90d"]\nmonotone_decreasing = ["job_loss_n_*"]',
            "both name: job_loss_n_90d",
        ),
        ('monotone_increasing = "job_loss_n_90d"', "monotone_increasing must be list"),
    ],
)
def test_unknown_or_contradictory_constraints_are_config_errors(
    tmp_path: Path, extra: str, match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(_with_lightgbm(tmp_path, extra))


def test_patterns_expand_against_the_registry(tmp_path: Path) -> None:
    cfg = load_config(_with_lightgbm(tmp_path, 'monotone_increasing = ["job_loss_n_*"]'))
    assert cfg.lightgbm.monotone_increasing == (
        "job_loss_n_90d",
        "job_loss_n_365d",
        "job_loss_n_1095d",
    )
    assert cfg.lightgbm.monotone_decreasing == ()


def test_constraint_vector_follows_the_feature_order() -> None:
    section = LightGBMSection(monotone_increasing=("b",), monotone_decreasing=("c",))
    assert constraint_vector(["c", "a", "b"], section) == [-1, 0, 1]
    assert constrained_params({}, ["a"], section) == {}


def _problem_signals(run: TrainingRun) -> list[tuple[str, int]]:
    lgb = run.config.lightgbm
    return [(f, 1) for f in lgb.monotone_increasing if f in run.model.features] + [
        (f, -1) for f in lgb.monotone_decreasing if f in run.model.features
    ]


def _violations(run: TrainingRun) -> dict[str, int]:
    """Families whose problem signal, beyond the population's median, lowers their estimate.

    The population's median is the model's typical family (each input's median over the
    training rows), which the contributions are measured against. For each problem signal,
    a family beyond it on the problem side (above it; below it for days since the last record)
    must have a contribution of that signal that is not negative: having more of a problem than
    the typical family never reads "lowers".
    """
    model, X = run.model, run.shap_values_sample
    assert model.reference is not None
    contrib, _ = model.contributions(X)
    out = {}
    for feature, direction in _problem_signals(run):
        beyond = ((X[feature] - model.reference[feature]) * direction > 0).to_numpy()
        negative = contrib[feature].to_numpy()[beyond] < -1e-9
        if negative.any():
            out[feature] = int(negative.sum())
    return out


def test_no_problem_signal_beyond_the_median_lowers_a_score(sample_run: TrainingRun) -> None:
    assert _problem_signals(sample_run)
    X, model = sample_run.shap_values_sample, sample_run.model
    assert model.reference is not None
    # The check is not empty: many families are beyond the median of some problem signal.
    beyond = sum(
        int(((X[f] - model.reference[f]) * d > 0).sum()) for f, d in _problem_signals(sample_run)
    )
    assert beyond > len(X)
    assert _violations(sample_run) == {}


def test_more_of_a_problem_never_counts_less(sample_run: TrainingRun) -> None:
    # All else equal, moving a problem signal from the median to the family's own value never
    # lowers the score.
    model, X = sample_run.model, sample_run.shap_values_sample
    for feature, direction in _problem_signals(sample_run):
        median = float(np.median(X[feature]))
        beyond = (X[feature] - median) * direction > 0
        if not beyond.any():
            continue
        at_median = X[beyond].copy()
        at_median[feature] = median
        drop = model.predict_proba(X[beyond]) < model.predict_proba(at_median) - 1e-12
        assert not drop.any(), feature


def test_without_constraints_the_property_does_not_hold(sample_run: TrainingRun) -> None:
    # The check above can fail: the same data without constraints breaks it.
    import dataclasses

    from training._fit import fit_lightgbm

    X = sample_run.shap_values_sample
    y = np.asarray(
        sample_run.evaluation.test.set_index("family_id").reindex(
            X.index.get_level_values("family_id")
        )["label"]
    )
    assert len(y) == len(X)
    lgb = sample_run.config.lightgbm
    fit = fit_lightgbm(
        X,
        y,
        X,
        y,
        features=sample_run.model.features,
        params=dict(lgb.params),
        num_boost_round=150,
        early_stopping_rounds=150,
        horizon_days=365,
        lookback_days=1095,
        capacity=sample_run.model.capacity,
        name="free",
    )
    # The typical family is the training population's median, input by input.
    assert fit.model.reference == {f: float(np.median(X[f])) for f in fit.model.features}
    free = dataclasses.replace(sample_run, model=fit.model)
    assert _violations(free)


def test_the_card_shows_the_cost_in_auc(sample_run: TrainingRun) -> None:
    card = render_model_card(sample_run, date="2026-01-02")
    section = card.split("## Monotone constraints")[1].split("\n## ")[0]
    m = sample_run.metrics
    assert (
        f"| ROC AUC (test) | {m['test_roc_auc']:.3f} | {m['unconstrained_test_roc_auc']:.3f}"
        in (section)
    )
    assert "Precision at capacity (test)" in section
    assert "`academic_failure` (n_90d, n_365d, n_1095d)" in section
    assert "| Explanations | exact Shapley contributions against a typical family" in card
