"""Fairness audit of scores and flags by group (DESIGN.md section 7)."""

from risk.fairness._audit import (
    CI_METRICS,
    COLUMNS,
    DEFAULT_ATTRIBUTES,
    DEFAULT_BAND,
    METRICS,
    MISSING,
    AuditError,
    audit,
    summarize,
)

__all__ = [
    "CI_METRICS",
    "COLUMNS",
    "DEFAULT_ATTRIBUTES",
    "DEFAULT_BAND",
    "METRICS",
    "MISSING",
    "AuditError",
    "audit",
    "summarize",
]
