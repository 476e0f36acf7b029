"""Registered versions for people, pure: summaries, tables and the notes governance leaves.

``training/_registry.py`` reads and writes the MLflow registry; everything here takes plain
values and returns text, so ``risk models list``, ``compare`` and ``rollback`` print what these
functions return and the tests need no store.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from training._card import OUT_OF_SCOPE_USES
from training._gates import GateResult, check_gates
from training._run import TrainingRun

#: Metrics ``risk models list`` shows: key, short label, decimals.
KEY_METRICS: tuple[tuple[str, str, int], ...] = (
    ("test_roc_auc", "AUC", 3),
    ("test_precision_at_capacity", "prec@cap", 3),
    ("test_ece", "ECE", 4),
)

#: Metrics a version's description states: key, label, decimals.
_SUMMARY_METRICS: tuple[tuple[str, str, int], ...] = (
    ("test_roc_auc", "ROC AUC", 3),
    ("test_precision_at_capacity", "precision at capacity", 3),
    ("test_ece", "ECE", 4),
)

#: Metrics ``risk models compare`` shows side by side.
COMPARED_METRICS: tuple[tuple[str, int], ...] = (
    ("test_roc_auc", 3),
    ("test_pr_auc", 3),
    ("test_precision_at_capacity", 3),
    ("test_recall_at_capacity", 3),
    ("test_brier", 4),
    ("test_ece", 4),
    ("logreg_test_roc_auc", 3),
    ("rule_test_roc_auc", 3),
    ("unconstrained_test_roc_auc", 3),
)

#: Fairness ratios ``risk models compare`` shows per audited group.
COMPARED_RATIOS: tuple[str, ...] = ("fpr_ratio", "fnr_ratio", "ppv_ratio")

#: Version tags the governance commands write (``training/_promote.py`` writes them).
TAG_GATES = "gates"
TAG_PROMOTED_AT, TAG_PROMOTED_BY = "promoted_at", "promoted_by"
TAG_ROLLBACK_AT, TAG_ROLLBACK_BY = "rollback_at", "rollback_by"
TAG_ROLLBACK_REASON, TAG_ROLLBACK_FROM = "rollback_reason", "rollback_from"
TAG_ROLLED_BACK_AT, TAG_ROLLED_BACK_BY = "rolled_back_at", "rolled_back_by"
TAG_ROLLED_BACK_REASON, TAG_ROLLED_BACK_TO = "rolled_back_reason", "rolled_back_to"

#: MLflow keeps a tag value under 5,000 characters.
TAG_LIMIT = 4900


@dataclass(frozen=True)
class VersionRecord:
    """One registered version as the governance commands read it."""

    version: str
    run_id: str
    run_name: str = ""
    created: str = ""  # ISO date and time, UTC
    aliases: tuple[str, ...] = ()
    metrics: Mapping[str, float] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    description: str = ""


def now() -> str:
    """Return the current time, UTC, to the second (ISO 8601)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def gate_summary(gates: Sequence[GateResult]) -> str:
    """One line for a version's tag: how many gates passed, and which failed.

    Examples
    --------
    >>> gate_summary([GateResult("a", True, ""), GateResult("calibration", False, "")])
    '1/2 passed; failed: calibration'
    """
    passed = sum(g.passed for g in gates)
    failed = [g.name for g in gates if not g.passed]
    text = f"{passed}/{len(gates)} passed"
    return text + (f"; failed: {', '.join(failed)}" if failed else "")


def run_name(model_name: str, as_of: str, booster_text: str) -> str:
    """Name an MLflow run readably: ``<model>-<as-of>-<first 8 hex of the booster's SHA-256>``.

    The hash is the one ``model.json`` records as ``booster_sha256``, so the name points at the
    artifact.

    Examples
    --------
    >>> run_name("family-distress", "2024-07-01", "tree")
    'family-distress-2024-07-01-dc9c5edb'
    """
    digest = hashlib.sha256(booster_text.encode("utf-8")).hexdigest()[:8]
    return f"{model_name}-{as_of}-{digest}"


def _fmt(x: float | None, digits: int) -> str:
    return "—" if x is None or not math.isfinite(float(x)) else f"{float(x):.{digits}f}"


def _signed(x: float, digits: int) -> str:
    if not math.isfinite(x):
        return "—"
    return ("+" if x >= 0 else "") + f"{x:.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def last_event(tags: Mapping[str, str]) -> str:
    """Who last moved ``champion`` to or from this version, when and why (``""`` if nobody).

    Examples
    --------
    >>> last_event({"promoted_at": "2026-01-02T10:00:00+00:00", "promoted_by": "anna",
    ...             "gates": "6/6 passed"})
    'promoted 2026-01-02T10:00:00+00:00 by anna: 6/6 passed'
    """
    events = []
    if TAG_PROMOTED_AT in tags:
        events.append(
            (
                tags[TAG_PROMOTED_AT],
                0,
                f"promoted {tags[TAG_PROMOTED_AT]} by {tags.get(TAG_PROMOTED_BY, '?')}: "
                + tags.get("promotion_gates", tags.get(TAG_GATES, "")).split(":")[0],
            )
        )
    if TAG_ROLLBACK_AT in tags:
        events.append(
            (
                tags[TAG_ROLLBACK_AT],
                1,  # within the same second, a rollback comes after the promotion
                f"champion again {tags[TAG_ROLLBACK_AT]} (rollback from v"
                f"{tags.get(TAG_ROLLBACK_FROM, '?')}) by {tags.get(TAG_ROLLBACK_BY, '?')}: "
                f"{tags.get(TAG_ROLLBACK_REASON, '')}",
            )
        )
    if TAG_ROLLED_BACK_AT in tags:
        events.append(
            (
                tags[TAG_ROLLED_BACK_AT],
                1,
                f"rolled back {tags[TAG_ROLLED_BACK_AT]} to v{tags.get(TAG_ROLLED_BACK_TO, '?')} "
                f"by {tags.get(TAG_ROLLED_BACK_BY, '?')}: {tags.get(TAG_ROLLED_BACK_REASON, '')}",
            )
        )
    return max(events)[2] if events else ""


def format_versions(model_name: str, versions: Sequence[VersionRecord]) -> str:
    """Format the table ``risk models list`` prints, newest version first.

    Examples
    --------
    >>> v = VersionRecord("2", "r2", "family-distress-2024-07-01-0a1b2c3d", "2026-01-02T10:00",
    ...                   ("challenger",), {"test_roc_auc": 0.84, "test_ece": 0.012},
    ...                   tags={"gates": "5/6 passed; failed: calibration"})
    >>> print(format_versions("family-distress", [v]))  # doctest: +NORMALIZE_WHITESPACE
    family-distress: 1 version(s)
    version  aliases     AUC    prec@cap  ECE     gates                            run  ...
    -------  ----------  -----  --------  ------  -------------------------------  ---...
    2        challenger  0.840  —         0.0120  5/6 passed; failed: calibration  family-...
    """
    if not versions:
        return f"{model_name}: no registered version"
    header = (
        "version",
        "aliases",
        *(label for _, label, _ in KEY_METRICS),
        "gates",
        "run",
        "created",
        "last governance event",
    )
    rows = [
        (
            v.version,
            ", ".join(v.aliases) or "—",
            *(_fmt(v.metrics.get(key), d) for key, _, d in KEY_METRICS),
            v.tags.get(TAG_GATES, "not checked"),
            v.run_name or v.run_id,
            v.created,
            last_event(v.tags) or "—",
        )
        for v in sorted(versions, key=lambda v: int(v.version), reverse=True)
    ]
    return f"{model_name}: {len(versions)} version(s)\n" + _table(header, rows)


def _ratio_frame(audit: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in COMPARED_RATIOS if c in audit.columns]
    keyed = audit.assign(
        key=audit["attribute"].astype(str) + "=" + audit["group"].astype(str)
    ).set_index("key")
    return keyed[cols]


def _cell(frame: pd.DataFrame, key: str, col: str) -> float:
    if key not in frame.index or col not in frame.columns:
        return math.nan
    value = pd.to_numeric(pd.Series([frame.loc[key, col]]).iloc[:1], errors="coerce").iloc[0]
    return float(value)


def format_comparison(
    a: VersionRecord,
    b: VersionRecord,
    audit_a: pd.DataFrame | None,
    audit_b: pd.DataFrame | None,
) -> str:
    """Format what ``risk models compare A B`` prints: metrics, exclusions, audit, B − A.

    Examples
    --------
    >>> a = VersionRecord("1", "r1", metrics={"test_roc_auc": 0.80},
    ...                   params={"excluded_features": "low_income"})
    >>> b = VersionRecord("2", "r2", metrics={"test_roc_auc": 0.83},
    ...                   params={"excluded_features": "none"})
    >>> text = format_comparison(a, b, None, None)
    >>> "test_roc_auc  0.800  0.830  +0.030" in text
    True
    >>> "included by v2 only: low_income" in text
    True
    """
    lines = [f"version {a.version} (A) against version {b.version} (B); difference is B − A", ""]
    rows = []
    for key, digits in COMPARED_METRICS:
        x, y = a.metrics.get(key), b.metrics.get(key)
        if x is None and y is None:
            continue
        diff = math.nan if x is None or y is None else float(y) - float(x)
        rows.append((key, _fmt(x, digits), _fmt(y, digits), _signed(diff, digits)))
    lines += [_table(("metric", f"v{a.version}", f"v{b.version}", "B − A"), rows), ""]

    def excluded(v: VersionRecord) -> set[str]:
        raw = v.params.get("excluded_features", "")
        return {f for f in raw.split(",") if f and f != "none"}

    ex_a, ex_b = excluded(a), excluded(b)
    lines.append("feature exclusions:")
    lines.append(f"  v{a.version}: {', '.join(sorted(ex_a)) or 'none'}")
    lines.append(f"  v{b.version}: {', '.join(sorted(ex_b)) or 'none'}")
    if ex_a == ex_b:
        lines.append("  the same")
    else:
        if ex_a - ex_b:
            lines.append(f"  included by v{b.version} only: {', '.join(sorted(ex_a - ex_b))}")
        if ex_b - ex_a:
            lines.append(f"  included by v{a.version} only: {', '.join(sorted(ex_b - ex_a))}")
    lines.append("")
    lines.append("fairness audit (ratios to each attribute's reference group):")
    if audit_a is None or audit_b is None:
        missing = [f"v{v.version}" for v, t in ((a, audit_a), (b, audit_b)) if t is None]
        lines.append(f"  no fairness/audit.csv for {', '.join(missing)}")
        return "\n".join(lines)
    ra, rb = _ratio_frame(audit_a), _ratio_frame(audit_b)
    audit_rows = []
    for key in dict.fromkeys([*ra.index, *rb.index]):
        for col in COMPARED_RATIOS:
            x = _cell(ra, key, col)
            y = _cell(rb, key, col)
            if not (math.isfinite(x) or math.isfinite(y)):
                continue
            audit_rows.append((key, col, _fmt(x, 2), _fmt(y, 2), _signed(y - x, 2)))
    lines.append(
        _table(("group", "ratio", f"v{a.version}", f"v{b.version}", "B − A"), audit_rows)
        if audit_rows
        else "  no ratios"
    )
    return "\n".join(lines)


def card_summary(run: TrainingRun) -> str:
    """Summarise the model card in a few lines: a registered version's description (Markdown).

    Intended use, out-of-scope uses, the key test metrics and the promotion gates as they stand
    at training; the whole card is the run's ``model_card.md``.
    """
    m = run.metrics
    gates = check_gates(m, run.evaluation.audit, run.config.promotion)
    failed = [g for g in gates if not g.passed]
    summary = ", ".join(
        f"{label} {_fmt(m.get(key), d)}" for key, label, d in _SUMMARY_METRICS if key in m
    )
    if "unconstrained_test_roc_auc" in m:
        summary += (
            f" (ROC AUC without monotone constraints: {_fmt(m['unconstrained_test_roc_auc'], 3)})"
        )
    lines = [
        f"**{run.config.model.name}** — {run.config.model.description}".rstrip(" —"),
        "",
        "- **Intended use**: orders a human review queue for voluntary, preventive outreach; "
        "every flag is reviewed by a specialist, and no score acts on a family by itself.",
        f"- **Out-of-scope uses**: {', '.join(OUT_OF_SCOPE_USES)}.",
        f"- **Key test metrics**: {summary}.",
        f"- **Promotion gates at training**: {gate_summary(gates)}.",
        *(f"  - ✗ {g.name}: {g.detail}" for g in failed),
        "",
        "The full model card is the run's artifact `model_card.md`.",
    ]
    return "\n".join(lines)[:TAG_LIMIT]


def governance_note(kind: str, when: str, by: str, reason: str) -> str:
    """Write the line appended to a version's description when ``champion`` moves.

    Examples
    --------
    >>> governance_note("rollback to v3 (from v5)", "2026-01-02T10:00:00+00:00", "anna",
    ...                 "v5 floods the queue in one district")
    '- 2026-01-02T10:00:00+00:00 rollback to v3 (from v5) by anna: v5 floods the queue in one district'
    """  # noqa: E501
    return f"- {when} {kind} by {by}: {reason}"
