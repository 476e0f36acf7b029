"""What a training produces, shared by both entry points (records and a feature table).

:class:`TrainingRun` is the one result type: ``log_training_run``, the model card and the
promotion gates read it whichever way it was made. The helpers here are pure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from risk import RiskModel
from risk.monitoring import Reference
from training._config import ModelConfig
from training._data import TemporalSplit

#: Called with the name of each stage of a training as it starts.
Progress = Callable[[str], None]


@dataclass(frozen=True)
class RandomSplit:
    """A random split of table rows, stratified by the label."""

    test_size: float
    validation_size: float
    seed: int
    stratified_by: str

    def describe(self) -> dict[str, str]:
        """Plain description for the model card and MLflow params.

        Examples
        --------
        >>> RandomSplit(0.2, 0.2, 0, "y").describe()["method"]
        'random, stratified by y'
        """
        train = 1.0 - self.test_size - self.validation_size
        return {
            "method": f"random, stratified by {self.stratified_by}",
            "train_fraction": f"{train:.2f}",
            "validation_fraction": f"{self.validation_size:.2f}",
            "test_fraction": f"{self.test_size:.2f}",
            "seed": str(self.seed),
        }


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
    # Test metrics of the same model without monotone constraints (None: none constrained).
    unconstrained: Mapping[str, float] | None = None
    # The population the scoring runs' monitoring compares against (None: a feature table's run).
    reference: Reference | None = None


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


def flat_metrics(
    test: Mapping[str, float],
    baselines: Mapping[str, Mapping[str, float]],
    before: Mapping[str, float],
) -> dict[str, float]:
    """One flat mapping of a run's metrics, as MLflow logs them and the gates read them.

    ``test_*`` for the model (``oracle_test_*`` for the synthetic truth), ``{baseline}_test_*``
    for each baseline, and ``test_uncalibrated_*`` for the booster's margin before calibration.

    Examples
    --------
    >>> before = dict.fromkeys(
    ...     ("ece", "brier", "log_loss", "calibration_slope", "calibration_intercept"), 0.0)
    >>> sorted(flat_metrics({"roc_auc": 0.8, "oracle_roc_auc": 0.9},
    ...                     {"logreg": {"roc_auc": 0.7}}, before))[:4]
    ['logreg_test_roc_auc', 'oracle_test_roc_auc', 'test_roc_auc', 'test_uncalibrated_brier']
    """
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
