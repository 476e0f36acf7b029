"""Monitoring of scoring runs: input integrity, drift and performance at capacity.

Every function here but the MLflow edge (:func:`log_scoring_run`, :func:`read_scoring_runs`) is
pure: it takes records, frames and a :class:`Reference` and returns values. See
``docs/monitoring.md`` for each check, its rule and what a degraded run means for the cards.
"""

from risk.monitoring._drift import (
    DRIFT_COLUMNS,
    Bins,
    DriftReport,
    bin_shares,
    drift_report,
    psi,
    psi_against,
    quantile_bins,
)
from risk.monitoring._integrity import (
    INTEGRITY_COLUMNS,
    FeedProblem,
    IntegrityReport,
    check_integrity,
    missing_sources_by_district,
    missing_sources_for,
)
from risk.monitoring._performance import (
    EXPECTED_COLUMNS,
    REALISED_COLUMNS,
    expected_performance,
    matured_labels,
    realised_performance,
)
from risk.monitoring._plots import runs_trend_png
from risk.monitoring._record import EXPERIMENT, ScoringRunRecord, run_name, scoring_run_record
from risk.monitoring._reference import (
    REFERENCE_FILE,
    Reference,
    ReferenceError,
    load_reference,
    reference_profile,
    save_reference,
)
from risk.monitoring._report import (
    Breach,
    Thresholds,
    check_thresholds,
    format_runs,
    render_html,
)
from risk.monitoring._tracking import (
    RUN_COLUMNS,
    TrackingError,
    log_scoring_run,
    read_run_figures,
    read_scoring_runs,
)
from risk.monitoring._volumes import monthly_volumes, window_volumes

__all__ = [
    "DRIFT_COLUMNS",
    "EXPERIMENT",
    "RUN_COLUMNS",
    "EXPECTED_COLUMNS",
    "INTEGRITY_COLUMNS",
    "REALISED_COLUMNS",
    "REFERENCE_FILE",
    "Bins",
    "Breach",
    "DriftReport",
    "FeedProblem",
    "IntegrityReport",
    "Reference",
    "ReferenceError",
    "ScoringRunRecord",
    "Thresholds",
    "TrackingError",
    "bin_shares",
    "check_integrity",
    "check_thresholds",
    "drift_report",
    "expected_performance",
    "format_runs",
    "load_reference",
    "log_scoring_run",
    "missing_sources_by_district",
    "missing_sources_for",
    "monthly_volumes",
    "psi",
    "psi_against",
    "quantile_bins",
    "read_run_figures",
    "read_scoring_runs",
    "matured_labels",
    "realised_performance",
    "reference_profile",
    "render_html",
    "run_name",
    "runs_trend_png",
    "save_reference",
    "scoring_run_record",
    "window_volumes",
]
