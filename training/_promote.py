"""Promotion gates, and the one code path that moves the ``champion`` alias.

:func:`check_gates` is pure: metrics and an audit table in, one :class:`GateResult` per gate
out. :func:`promote` is the thin MLflow edge: it reads a registered version's run metrics and
``fairness/audit.csv``, checks the gates, and sets ``champion`` only when every gate passes.
Nothing else in the code base sets ``champion`` (``tests/training/test_promotion_gates.py``
checks that).
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from features import InputError
from training._config import ModelConfig, PromotionSection, load_config

if TYPE_CHECKING:
    from mlflow import MlflowClient

#: The alias :func:`promote` moves, and the alias it promotes from by default.
CHAMPION = "champion"
CHALLENGER = "challenger"

#: Where a training run keeps its fairness audit (``training/_tracking.py`` writes it).
AUDIT_ARTIFACT = "fairness/audit.csv"

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


@dataclass(frozen=True)
class PromotionResult:
    """What :func:`promote` checked and did."""

    model_name: str
    version: str
    run_id: str
    gates: tuple[GateResult, ...]
    promoted: bool

    @property
    def failed(self) -> tuple[GateResult, ...]:
        """The gates that did not pass."""
        return tuple(g for g in self.gates if not g.passed)


class PromotionRefused(PromotionError):
    """At least one gate failed; the message lists every failed gate. ``champion`` is unchanged."""

    def __init__(self, result: PromotionResult) -> None:
        self.result = result
        failed = "; ".join(f"{g.name} ({g.detail})" for g in result.failed)
        super().__init__(
            f"{result.model_name} version {result.version} not promoted: "
            f"{len(result.failed)} of {len(result.gates)} gate(s) failed: {failed}"
        )


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


def _client_error(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _resolve_version(client: MlflowClient, model_name: str, version: str | None, uri: str) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(model_name)
    except MlflowException as exc:
        raise PromotionError(
            f"no registered model {model_name!r} in the tracking store {uri} ({_client_error(exc)})"
        ) from exc
    wanted = CHALLENGER if version is None else str(version)
    try:
        if wanted.isdigit():
            return client.get_model_version(model_name, wanted)
        return client.get_model_version_by_alias(model_name, wanted)
    except MlflowException as exc:
        what = f"version {wanted}" if wanted.isdigit() else f"alias {wanted!r}"
        raise PromotionError(
            f"registered model {model_name!r} has no {what} in the tracking store {uri}"
        ) from exc


def _read_audit(run_id: str, uri: str) -> pd.DataFrame:
    import mlflow
    from mlflow.exceptions import MlflowException

    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=AUDIT_ARTIFACT, dst_path=tmp, tracking_uri=uri
            )
        except (MlflowException, OSError) as exc:
            raise PromotionError(
                f"run {run_id} has no readable {AUDIT_ARTIFACT} artifact ({_client_error(exc)})"
            ) from exc
        # keep group labels as written ("True", "urban"), never re-parsed as bools or numbers
        return pd.read_csv(Path(local), dtype={"attribute": str, "group": str})


def promote(
    version: str | int | None = None,
    *,
    model_name: str = "family-distress",
    tracking_uri: str | None = None,
    config: ModelConfig | str | Path | None = None,
    explanations: Mapping[str, str] | None = None,
) -> PromotionResult:
    """Move the ``champion`` alias to a registered version if every gate passes.

    Parameters
    ----------
    version : str or int, optional
        A version number, or an alias; default: the version with alias ``challenger``.
    model_name : str
        The registered model.
    tracking_uri : str, optional
        Default: ``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db``.
    config : ModelConfig or path, optional
        The model definition whose ``[promotion]`` gates apply (default: ``models/``).
    explanations : mapping of str to str, optional
        Fairness flags (``attribute=group:metric_ratio`` or ``attribute:metric_ratio``) a person
        explains for this version, with the explanation. They are recorded on the version as the
        tag ``fairness_explanations`` whether or not it is promoted.

    Returns
    -------
    PromotionResult
        With ``promoted=True``; the version also gets tags ``promoted_at`` and
        ``promotion_gates``.

    Raises
    ------
    PromotionRefused
        When any gate fails (``champion`` is left where it was); ``.result`` holds every gate.
    PromotionError
        When the model, version or alias is unknown or the run lacks its audit.
    """
    from mlflow import MlflowClient

    from training._tracking import tracking_uri as resolve_uri

    cfg = config if isinstance(config, ModelConfig) else load_config(config)
    uri = resolve_uri(tracking_uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    mv = _resolve_version(client, model_name, None if version is None else str(version), uri)
    if not mv.run_id:
        raise PromotionError(f"{model_name} version {mv.version} has no training run to check")
    metrics = client.get_run(mv.run_id).data.metrics
    audit = _read_audit(mv.run_id, uri)
    promotion = cfg.promotion
    if explanations:
        empty = [flag for flag, why in explanations.items() if not str(why).strip()]
        if empty:
            raise PromotionError(f"an explanation must say why; empty for {', '.join(empty)}")
        promotion = replace(promotion, explained_at_promotion=tuple(explanations))
        client.set_model_version_tag(
            model_name,
            str(mv.version),
            "fairness_explanations",
            json.dumps(dict(explanations), ensure_ascii=False)[:4900],
        )
    gates = tuple(check_gates(metrics, audit, promotion))
    result = PromotionResult(
        model_name=model_name,
        version=str(mv.version),
        run_id=mv.run_id,
        gates=gates,
        promoted=all(g.passed for g in gates),
    )
    if not result.promoted:
        raise PromotionRefused(result)
    client.set_registered_model_alias(model_name, CHAMPION, result.version)
    client.set_model_version_tag(
        model_name, result.version, "promoted_at", datetime.now(UTC).isoformat(timespec="seconds")
    )
    summary = f"{len(gates)}/{len(gates)} passed: " + "; ".join(g.name for g in gates)
    client.set_model_version_tag(model_name, result.version, "promotion_gates", summary[:4900])
    return result
