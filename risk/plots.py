"""Plots of evaluation and audit results (matplotlib figures, Russian or English labels)."""

from risk._plots import audit_plot, pr_curve, reliability_diagram, score_histogram

__all__ = ["audit_plot", "pr_curve", "reliability_diagram", "score_histogram"]
