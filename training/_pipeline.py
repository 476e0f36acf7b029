"""The training pipeline, pure: records in, a calibrated model and its evaluation out.

MLflow, files and plots are at the edge (``training/_tracking.py``); nothing here writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from features import Records
from risk._metrics import evaluate
from risk._model import Capacity, RiskModel
from risk.fairness import DEFAULT_ATTRIBUTES
from training._config import ModelConfig
from training._data import (
    Snapshots,
    TemporalSplit,
    labelled_snapshots,
    last_labelled_date,
    quarterly_dates,
    temporal_split,
)
from training._fit import fit_lightgbm, fit_logreg, model_features, rule_score

if TYPE_CHECKING:
    from training._table import RandomSplit

GROUP_ATTRIBUTES = DEFAULT_ATTRIBUTES  # the attributes DESIGN.md section 7 audits by

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Evaluation:
    """Test-set results of one model."""

    metrics: dict[str, float]
    test: pd.DataFrame  # family_id, district, groups..., score, label, flagged, [p_true, distress]
    audit: pd.DataFrame
    audit_distress: pd.DataFrame | None


@dataclass(frozen=True)
class TrainingRun:
    """Everything one training produced."""

    model: RiskModel
    config: ModelConfig
    split: TemporalSplit | RandomSplit  # RandomSplit: a user's feature table (training/_table.py)
    metrics: dict[str, float]
    evaluation: Evaluation
    baselines: dict[str, dict[str, float]]
    calibration_before: dict[str, float]
    calibration_after: dict[str, float]
    uncalibrated_test: np.ndarray
    with_exclusions_included: Evaluation | None
    included_features: tuple[str, ...]
    shap_sample: pd.DataFrame  # contributions on a sample of test rows
    shap_values_sample: pd.DataFrame  # the feature values of that sample
    timings: dict[str, float] = field(default_factory=dict)
    n_rows: dict[str, int] = field(default_factory=dict)
    # How the run departs from the records pipeline (a table's inputs, baseline, capacity);
    # the model card lists them. Display names of baselines that are not the defaults.
    notes: tuple[str, ...] = ()
    baseline_labels: Mapping[str, str] = field(default_factory=dict)


def _rows(snap: Snapshots, dates: tuple[pd.Timestamp, ...]) -> np.ndarray:
    as_of = snap.X.index.get_level_values("as_of")
    return np.asarray(as_of.isin(pd.DatetimeIndex(dates)))


def group_frame(
    records: Records,
    X_test: pd.DataFrame,
    truth_families: pd.DataFrame | None,
) -> pd.DataFrame:
    """Audit attributes per test family: districts from records, the rest from truth or features."""
    fam_ids = X_test.index.get_level_values("family_id")
    families = records.families.set_index("family_id")
    out = pd.DataFrame(
        {
            "family_id": fam_ids,
            "district": families["district"].reindex(fam_ids).to_numpy(),
            "settlement": families["settlement"].reindex(fam_ids).to_numpy(),
        }
    )
    attrs = ("single_parent", "large_family", "disabled_child", "low_income")
    if truth_families is not None:
        t = truth_families.set_index("family_id")
        for a in attrs:
            out[a] = t[a].reindex(fam_ids).to_numpy().astype(bool)
    else:
        for a in attrs:
            out[a] = X_test[a].to_numpy() > 0
    return out


def _evaluate_model(
    model: RiskModel,
    X_test: pd.DataFrame,
    y_test: np.ndarray,
    groups: pd.DataFrame,
    truth: pd.DataFrame | None,
    capacity: Capacity,
    n_boot: int,
) -> Evaluation:
    from risk.fairness import audit

    p = model.predict_proba(X_test)
    districts = groups["district"].to_numpy()
    cap = {d: capacity.for_district(d) for d in np.unique(districts)}
    metrics = evaluate(
        y_test,
        p,
        groups=districts,
        capacity=cap,
        oracle=None if truth is None else truth["p_true"].to_numpy(),
        tie_break=groups["family_id"].to_numpy(),
        n_boot=n_boot,
    )
    test = groups.copy()
    test["score"] = p
    test["label"] = y_test
    if truth is not None:
        test["p_true"] = truth["p_true"].to_numpy()
        test["distress"] = truth["distress"].to_numpy()
    kwargs: dict[str, Any] = {
        "score": "score",
        "groups": list(GROUP_ATTRIBUTES),
        "top_k": cap,
        "top_k_by": "district",
        "tie_break": "family_id",
        "n_boot": n_boot,
    }
    table = audit(test, label="label", **kwargs)
    table_distress = audit(test, label="distress", **kwargs) if truth is not None else None
    return Evaluation(metrics=metrics, test=test, audit=table, audit_distress=table_distress)


class StageTimer:
    """Seconds spent in each stage of a run: :meth:`lap` closes the stage that just ended.

    Examples
    --------
    >>> timer = StageTimer()
    >>> timer.lap("fit")
    >>> list(timer.timings)
    ['fit']
    """

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._clock = time.perf_counter()

    def lap(self, stage: str) -> None:
        """Record the time since the previous lap (or the start) as ``stage``."""
        now = time.perf_counter()
        self.timings[stage] = now - self._clock
        self._clock = now


def train(
    records: Records,
    config: ModelConfig,
    *,
    truth_snapshots: pd.DataFrame | None = None,
    truth_families: pd.DataFrame | None = None,
    compare_exclusions: bool = True,
    n_boot: int = 200,
    progress: Progress | None = None,
) -> TrainingRun:
    """Train, calibrate and evaluate the model of ``config`` on ``records``.

    Parameters
    ----------
    records : Records
        Validated records.
    config : ModelConfig
        The model definition.
    truth_snapshots, truth_families : DataFrame, optional
        The synthetic truth (``truth/``): adds oracle metrics and the audit against ``distress``.
    compare_exclusions : bool
        Also train the same model with the excluded features included, for the model card.
    n_boot : int
        Bootstrap resamples for intervals.
    progress : callable, optional
        Called with the name of each stage as it starts.
    """
    say = progress or (lambda _stage: None)
    timer = StageTimer()
    lap = timer.lap

    m = config.model
    last = (
        last_labelled_date(
            records, config.snapshots.first_as_of, m.horizon_days, config.snapshots.frequency_months
        )
        if config.snapshots.last_as_of == "auto"
        else pd.Timestamp(config.snapshots.last_as_of)
    )
    dates = quarterly_dates(config.snapshots.first_as_of, last, config.snapshots.frequency_months)
    split = temporal_split(dates, m.horizon_days)
    say("building labelled snapshots")
    snap = labelled_snapshots(
        records,
        [*split.train, split.validation, split.test],
        horizon_days=m.horizon_days,
        lookback_days=m.lookback_days,
        truth_snapshots=truth_snapshots,
    )
    lap("snapshots")
    tr, va, te = (
        _rows(snap, split.train),
        _rows(snap, (split.validation,)),
        _rows(snap, (split.test,)),
    )
    X, y = snap.X, snap.y.to_numpy()
    X_test = X[te]
    capacity = Capacity(
        default=config.capacity.default,
        per_district=dict(config.capacity.per_district),
        min_score=config.capacity.min_score,
    )
    feats = model_features(config.features.exclude)
    common: dict[str, Any] = {
        "params": config.lightgbm.params,
        "num_boost_round": config.lightgbm.num_boost_round,
        "early_stopping_rounds": config.lightgbm.early_stopping_rounds,
        "horizon_days": m.horizon_days,
        "lookback_days": m.lookback_days,
        "capacity": capacity,
        "name": m.name,
    }
    say("fitting LightGBM")
    fit = fit_lightgbm(X[tr], y[tr], X[va], y[va], features=feats, **common)
    lap("fit")
    say("fitting baselines")
    logreg = fit_logreg(X[tr], y[tr], feats)
    lap("baselines")
    say("evaluating on the test snapshot")
    groups = group_frame(records, X_test, truth_families)
    truth_test = None if snap.truth is None else snap.truth[te]
    y_test = y[te]
    evaluation = _evaluate_model(fit.model, X_test, y_test, groups, truth_test, capacity, n_boot)
    districts = groups["district"].to_numpy()
    cap = {d: capacity.for_district(d) for d in np.unique(districts)}
    base_eval = {
        "logreg": evaluate(
            y_test,
            logreg.predict_proba(X_test[list(feats)].to_numpy(np.float64))[:, 1],
            groups=districts,
            capacity=cap,
            tie_break=groups["family_id"].to_numpy(),
            n_boot=n_boot,
        ),
        "rule": evaluate(
            y_test,
            rule_score(X_test),
            groups=districts,
            capacity=cap,
            tie_break=groups["family_id"].to_numpy(),
            n_boot=n_boot,
        ),
    }
    margin_test = fit.model.margin(X_test)
    uncal = 1 / (1 + np.exp(-margin_test))
    before = evaluate(y_test, uncal, n_boot=0)
    after = evaluation.metrics
    lap("evaluate")
    included = None
    included_feats: tuple[str, ...] = ()
    if compare_exclusions and config.features.exclude:
        say("fitting the comparison model with the exclusions included")
        included_feats = model_features(())
        fit_inc = fit_lightgbm(X[tr], y[tr], X[va], y[va], features=included_feats, **common)
        included = _evaluate_model(
            fit_inc.model, X_test, y_test, groups, truth_test, capacity, n_boot
        )
        lap("exclusions_comparison")
    say("explaining a sample of the test snapshot")
    contrib, X_sample = explain_sample(fit.model, X_test)
    lap("shap_sample")
    metrics = _flat_metrics(after, base_eval, before)
    metrics["best_iteration"] = float(fit.best_iteration)
    model = replace(
        fit.model,
        metadata={"test_as_of": str(split.test.date()), **outcome_summary(evaluation, metrics)},
    )
    return TrainingRun(
        model=model,
        config=config,
        split=split,
        metrics=metrics,
        evaluation=evaluation,
        baselines=base_eval,
        calibration_before=before,
        calibration_after=after,
        uncalibrated_test=uncal,
        with_exclusions_included=included,
        included_features=included_feats,
        shap_sample=contrib,
        shap_values_sample=X_sample[list(model.features)],
        timings=timer.timings,
        n_rows={"train": int(tr.sum()), "validation": int(va.sum()), "test": int(te.sum())},
    )


def explain_sample(
    model: RiskModel, X_test: pd.DataFrame, size: int = 2000, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Exact contributions on a fixed random sample of test rows (for the SHAP summary plot)."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(X_test), size=min(size, len(X_test)), replace=False))
    X_sample = X_test.iloc[rows]
    contrib, _ = model.contributions(X_sample)
    return contrib, X_sample


def outcome_summary(evaluation: Evaluation, metrics: Mapping[str, float]) -> dict[str, float]:
    """Summarise the test for the model's metadata: base rate, mean score, AUC and ECE."""
    return {
        "base_rate": float(np.mean(evaluation.test["label"])),
        "mean_score": float(np.mean(evaluation.test["score"])),
        "test_roc_auc": metrics["test_roc_auc"],
        "test_ece": metrics["test_ece"],
    }


def _flat_metrics(
    test: Mapping[str, float],
    baselines: Mapping[str, Mapping[str, float]],
    before: Mapping[str, float],
) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in test.items():
        if key.startswith("oracle_"):
            out[f"oracle_test_{key.removeprefix('oracle_')}"] = float(value)
        else:
            out[f"test_{key}"] = float(value)
    for name, vals in baselines.items():
        for key, value in vals.items():
            out[f"{name}_test_{key}"] = float(value)
    for key in ("ece", "brier", "log_loss", "calibration_slope", "calibration_intercept"):
        out[f"test_uncalibrated_{key}"] = float(before[key])
    return out
