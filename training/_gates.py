"""Promotion gates, pure: a run's metrics and its fairness audit in, one verdict per gate out.

:func:`check_gates` decides; :func:`fairness_flags` and :func:`explain_flag` say which audit
ratios fall outside the band and why one may not count. Nothing here reads a store: the MLflow
side of promotion is ``training/_promote.py``, and the model card shows the same verdicts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from features import InputError
from training._config import PromotionSection

#: The metrics the baseline gates compare (``test_X`` against ``{baseline}_test_X``).
BASELINE_METRICS: tuple[str, ...] = ("test_roc_auc", "test_precision_at_capacity")

_AUDIT_COLUMNS = ("attribute", "group", "n")
_BAND_TOL = 1e-9  # as in the audit: a ratio of exactly 0.8 computed as 0.4 / 0.5 is in the band


class PromotionError(InputError):
    """A promotion cannot be checked: unknown model, version or alias, or a missing artifact."""


@dataclass(frozen=True)
class GateResult:
    """One gate's verdict and the numbers behind it."""

    name: str
    passed: bool
    detail: str

    def __str__(self) -> str:
        return f"{'✓' if self.passed else '✗'} {self.name}: {self.detail}"


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def _baseline_gates(metrics: Mapping[str, float], baselines: Sequence[str]) -> list[GateResult]:
    out = []
    for base in baselines:
        for key in BASELINE_METRICS:
            name = f"beats {base} on {key}"
            ours, theirs = metrics.get(key), metrics.get(f"{base}_{key}")
            if (
                ours is None
                or theirs is None
                or not (math.isfinite(ours) and math.isfinite(theirs))
            ):
                missing = key if ours is None or not math.isfinite(ours) else f"{base}_{key}"
                out.append(GateResult(name, False, f"metric {missing} is missing or not finite"))
                continue
            assert ours is not None and theirs is not None  # narrowed by _finite
            passed = ours > theirs
            sign = ">" if passed else "≤"
            out.append(GateResult(name, passed, f"{key} {_fmt(ours)} {sign} {base} {_fmt(theirs)}"))
    return out


def _ece_gate(metrics: Mapping[str, float], max_ece: float) -> GateResult:
    name = "calibration: test_ece ≤ max_ece"
    ece = metrics.get("test_ece")
    if ece is None or not math.isfinite(ece):
        return GateResult(name, False, "metric test_ece is missing or not finite")
    passed = ece <= max_ece
    sign = "≤" if passed else ">"
    return GateResult(name, passed, f"test_ece {ece:.4f} {sign} max_ece {max_ece:.4f}")


def fairness_flags(
    audit: pd.DataFrame, promotion: PromotionSection
) -> list[tuple[str, float, int]]:
    """Ratios outside the band, as ``(flag, ratio, n)`` with flag ``attribute=group:metric_ratio``.

    Only rows of ``promotion.fairness_attributes`` with ``n >= promotion.min_group_size`` count;
    undefined (NaN) ratios are not flags.

    Examples
    --------
    >>> audit = pd.DataFrame({"attribute": ["low_income"] * 2, "group": ["False", "True"],
    ...                       "n": [4000, 1500], "fpr_ratio": [1.0, 2.5]})
    >>> fairness_flags(audit, PromotionSection(fairness_attributes=("low_income",),
    ...                                        fairness_metrics=("fpr",)))
    [('low_income=True:fpr_ratio', 2.5, 1500)]
    """
    missing = [c for c in _AUDIT_COLUMNS if c not in audit.columns]
    missing += [
        f"{m}_ratio" for m in promotion.fairness_metrics if f"{m}_ratio" not in audit.columns
    ]
    if missing:
        raise PromotionError(f"the fairness audit lacks column(s): {', '.join(missing)}")
    low, high = promotion.fairness_band
    rows = audit[
        audit["attribute"].astype(str).isin(promotion.fairness_attributes)
        & (pd.to_numeric(audit["n"]) >= promotion.min_group_size)
    ]
    flags = []
    for _, row in rows.iterrows():
        for metric in promotion.fairness_metrics:
            ratio = float(row[f"{metric}_ratio"])
            if math.isfinite(ratio) and not (low - _BAND_TOL <= ratio <= high + _BAND_TOL):
                flags.append(
                    (f"{row['attribute']}={row['group']}:{metric}_ratio", ratio, int(row["n"]))
                )
    return flags


def _is_explained(flag: str, explained: Sequence[str]) -> bool:
    attr_group, metric = flag.rsplit(":", 1)
    attribute = attr_group.split("=", 1)[0]
    return flag in explained or f"{attribute}:{metric}" in explained


def _reference_values(audit: pd.DataFrame) -> dict[str, pd.Series]:
    ref = audit[audit["is_reference"].astype(bool)] if "is_reference" in audit else audit.iloc[:0]
    return {str(r["attribute"]): r for _, r in ref.iterrows()}


def explain_flag(flag: str, audit: pd.DataFrame, promotion: PromotionSection) -> str | None:
    """Why a ratio outside the band does not count against promotion, or ``None``.

    * ``"explained in the model definition"``: a person listed it in ``explained_fairness_flags``
      after the model card explained it;
    * ``"within bootstrap noise"``: the group's 95 % interval of the metric still reaches the band
      around the reference group's value, so the data cannot tell the ratio from 1;

    A difference in base rates is never an explanation by itself: a score calibrated against the
    registered label can still flag a group far more often because agencies record more about it
    (surveillance bias leaves calibration intact and shows in error rates). A person reads the
    model card and explains, or the version is not promoted.
    """
    if _is_explained(flag, promotion.explained_fairness_flags):
        return "explained in the model definition"
    if _is_explained(flag, promotion.explained_at_promotion):
        return "explained at promotion"
    attr_group, metric_ratio = flag.rsplit(":", 1)
    attribute, group = attr_group.split("=", 1)
    metric = metric_ratio.removesuffix("_ratio")
    rows = audit[
        (audit["attribute"].astype(str) == attribute) & (audit["group"].astype(str) == group)
    ]
    if rows.empty:
        return None
    row = rows.iloc[0]
    ref = _reference_values(audit).get(attribute)
    low, high = promotion.fairness_band
    lo_col, hi_col = f"{metric}_ci_low", f"{metric}_ci_high"
    if ref is not None and lo_col in row and hi_col in row:
        ref_value = float(ref[metric])
        ci_low, ci_high = float(row[lo_col]), float(row[hi_col])
        if all(math.isfinite(v) for v in (ref_value, ci_low, ci_high)) and (
            ci_low <= ref_value * high and ci_high >= ref_value * low
        ):
            return "within bootstrap noise"
    return None


def _fairness_gate(audit: pd.DataFrame, promotion: PromotionSection) -> GateResult:
    name = "no unexplained fairness flag"
    low, high = promotion.fairness_band
    flags = fairness_flags(audit, promotion)
    reasons = {f[0]: explain_flag(f[0], audit, promotion) for f in flags}
    unexplained = [f for f in flags if reasons[f[0]] is None]

    def listing(items: list[tuple[str, float, int]]) -> str:
        return ", ".join(f"{flag} {ratio:.2f} (n={n:,})" for flag, ratio, n in items)

    scope = (
        f"{', '.join(promotion.fairness_attributes)} with n ≥ {promotion.min_group_size:,}, "
        f"band [{low:.2f}, {high:.2f}]"
        if promotion.fairness_attributes
        else "no fairness attributes configured"
    )
    parts = []
    if unexplained:
        parts.append(f"{len(unexplained)} unexplained: {listing(unexplained)}")
    else:
        parts.append("none outside the band unexplained")
    for reason in (
        "explained in the model definition",
        "explained at promotion",
        "within bootstrap noise",
    ):
        items = [f for f in flags if reasons[f[0]] == reason]
        if items:
            parts.append(f"{len(items)} {reason}: {listing(items)}")
    return GateResult(name, not unexplained, f"{'; '.join(parts)} ({scope})")


def check_gates(
    metrics: Mapping[str, float], audit: pd.DataFrame, promotion: PromotionSection
) -> list[GateResult]:
    """Check every promotion gate of ``promotion``.

    Gates, in order: beats each baseline of ``promotion.beat_baselines`` on each of
    :data:`BASELINE_METRICS`; ``test_ece <= max_ece``; no unexplained fairness flag (see
    :func:`fairness_flags`; a flag is explained when ``explained_fairness_flags`` lists it as
    ``attribute=group:metric_ratio`` or ``attribute:metric_ratio``).

    Parameters
    ----------
    metrics : mapping of str to float
        A training run's flat metrics (``test_roc_auc``, ``logreg_test_roc_auc``, ...).
    audit : pandas.DataFrame
        The fairness audit against the registered label (``risk.fairness.audit``).
    promotion : PromotionSection
        The ``[promotion]`` section of the model definition.

    Returns
    -------
    list of GateResult

    Examples
    --------
    >>> metrics = {"test_roc_auc": 0.84, "logreg_test_roc_auc": 0.80,
    ...            "test_precision_at_capacity": 0.20, "logreg_test_precision_at_capacity": 0.21,
    ...            "test_ece": 0.01}
    >>> audit = pd.DataFrame({"attribute": ["settlement"], "group": ["urban"], "n": [5000],
    ...                       "fpr_ratio": [1.0], "fnr_ratio": [1.0], "ppv_ratio": [1.0]})
    >>> for gate in check_gates(metrics, audit, PromotionSection(beat_baselines=("logreg",))):
    ...     print(gate)  # doctest: +ELLIPSIS
    ✓ beats logreg on test_roc_auc: test_roc_auc 0.840 > logreg 0.800
    ✗ beats logreg on test_precision_at_capacity: test_precision_at_capacity 0.200 ≤ logreg 0.210
    ✓ calibration: test_ece ≤ max_ece: test_ece 0.0100 ≤ max_ece 0.0200
    ✓ no unexplained fairness flag: none outside the band unexplained (no fairness attributes ...)
    """
    return [
        *_baseline_gates(metrics, promotion.beat_baselines),
        _ece_gate(metrics, promotion.max_ece),
        _fairness_gate(audit, promotion),
    ]
