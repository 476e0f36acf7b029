"""Evaluation metrics for a binary risk score (DESIGN.md section 7).

Every function takes labels and scores as arrays and returns plain floats; undefined metrics
are ``nan``. Bootstrap intervals are vectorised.
"""

from risk._metrics import (
    CI_KEYS,
    BootstrapInterval,
    MetricInputError,
    bootstrap_ci,
    brier,
    calibration_slope_intercept,
    ece,
    evaluate,
    log_loss,
    pr_auc,
    precision_recall_at_capacity,
    roc_auc,
    top_k_per_group,
)

__all__ = [
    "CI_KEYS",
    "BootstrapInterval",
    "MetricInputError",
    "bootstrap_ci",
    "brier",
    "calibration_slope_intercept",
    "ece",
    "evaluate",
    "log_loss",
    "pr_auc",
    "precision_recall_at_capacity",
    "roc_auc",
    "top_k_per_group",
]
