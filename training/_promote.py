"""The one module that moves the ``champion`` alias: promotion and rollback at the MLflow edge.

:func:`promote` reads a registered version's run metrics and ``fairness/audit.csv``, checks the
gates (:func:`training._gates.check_gates`, pure), and sets ``champion`` only when every gate
passes. :func:`rollback` moves ``champion`` back to a version that was champion before, in a
named person's name and with their reason. Nothing else in the code base sets ``champion``
(``tests/training/test_promotion_gates.py`` checks that).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from training._config import ModelConfig, load_config
from training._gates import GateResult, PromotionError, check_gates
from training._registry import describe_version, read_audit
from training._tracking import CHALLENGER
from training._tracking import tracking_uri as resolve_uri
from training._versions import (
    TAG_GATES,
    TAG_LIMIT,
    TAG_PROMOTED_AT,
    TAG_PROMOTED_BY,
    TAG_ROLLBACK_AT,
    TAG_ROLLBACK_BY,
    TAG_ROLLBACK_FROM,
    TAG_ROLLBACK_REASON,
    TAG_ROLLED_BACK_AT,
    TAG_ROLLED_BACK_BY,
    TAG_ROLLED_BACK_REASON,
    TAG_ROLLED_BACK_TO,
    gate_summary,
    governance_note,
    now,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient

#: The alias :func:`promote` moves; it promotes from ``challenger`` by default.
CHAMPION = "champion"


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


def promote(
    version: str | int | None = None,
    *,
    model_name: str = "family-distress",
    tracking_uri: str | None = None,
    config: ModelConfig | str | Path | None = None,
    explanations: Mapping[str, str] | None = None,
    by: str | None = None,
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
        tag ``fairness_explanations`` whether or not it is promoted, with the person's name
        (``fairness_explanations_by``): explanations need ``by``.
    by : str, optional
        Who promotes (and explains); recorded as ``promoted_by``.

    Returns
    -------
    PromotionResult
        With ``promoted=True``; the version also gets tags ``promoted_at``, ``promoted_by`` and
        ``promotion_gates``, and a line in its description. Every check, passed or not, leaves
        the tag ``gates`` (how many passed, which failed).

    Raises
    ------
    PromotionRefused
        When any gate fails (``champion`` is left where it was); ``.result`` holds every gate.
    PromotionError
        When the model, version or alias is unknown or the run lacks its audit, or when
        explanations come without the name of the person who gives them.
    """
    from mlflow import MlflowClient

    who = (by or "").strip()
    if explanations and not who:
        raise PromotionError(
            "an explanation of a fairness flag is recorded only with the name of the person "
            "who gives it (--by NAME)"
        )

    cfg = config if isinstance(config, ModelConfig) else load_config(config)
    uri = resolve_uri(tracking_uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    mv = _resolve_version(client, model_name, None if version is None else str(version), uri)
    if not mv.run_id:
        raise PromotionError(f"{model_name} version {mv.version} has no training run to check")
    metrics = client.get_run(mv.run_id).data.metrics
    audit = read_audit(mv.run_id, uri)
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
            json.dumps(dict(explanations), ensure_ascii=False)[:TAG_LIMIT],
        )
        client.set_model_version_tag(model_name, str(mv.version), "fairness_explanations_by", who)
        client.set_model_version_tag(model_name, str(mv.version), "fairness_explanations_at", now())
    gates = tuple(check_gates(metrics, audit, promotion))
    client.set_model_version_tag(model_name, str(mv.version), TAG_GATES, gate_summary(gates))
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
    when = datetime.now(UTC).isoformat(timespec="seconds")
    client.set_model_version_tag(model_name, result.version, TAG_PROMOTED_AT, when)
    client.set_model_version_tag(model_name, result.version, TAG_PROMOTED_BY, who or "not given")
    summary = f"{len(gates)}/{len(gates)} passed: " + "; ".join(g.name for g in gates)
    client.set_model_version_tag(model_name, result.version, "promotion_gates", summary[:TAG_LIMIT])
    reason = f"all {len(gates)} gates passed" + (
        f"; {len(explanations)} fairness flag(s) explained" if explanations else ""
    )
    describe_version(
        client,
        model_name,
        result.version,
        governance_note("promoted to champion", when, who or "(name not given)", reason),
        append=True,
    )
    return result


@dataclass(frozen=True)
class RollbackResult:
    """What :func:`rollback` did: ``champion`` moved from ``previous`` (if any) to ``version``."""

    model_name: str
    version: str
    previous: str | None
    by: str
    reason: str
    at: str


def rollback(
    to: str | int,
    *,
    reason: str,
    by: str,
    model_name: str = "family-distress",
    tracking_uri: str | None = None,
) -> RollbackResult:
    """Move ``champion`` back to version ``to``, in ``by``'s name and for ``reason``.

    Only a version that was champion before (it has ``promoted_at``) can take the alias back:
    a rollback returns to a model that passed its gates, it never promotes a new one. Both
    versions record who, when and why, as tags and as a line of their descriptions.

    Raises
    ------
    PromotionError
        When the reason or the name is empty, the version is unknown, never was champion, or
        is champion now.
    """
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    why, who, wanted = reason.strip(), by.strip(), str(to).strip()
    if not why:
        raise PromotionError("a rollback must say why: --reason is empty")
    if not who:
        raise PromotionError("a rollback is made in a person's name: --by is empty")
    if not wanted.isdigit():
        raise PromotionError(f"--to takes a version number; got {wanted!r}")
    uri = resolve_uri(tracking_uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    mv = _resolve_version(client, model_name, wanted, uri)
    if CHAMPION in (mv.aliases or ()):
        raise PromotionError(f"{model_name} version {mv.version} is already '{CHAMPION}'")
    if TAG_PROMOTED_AT not in (mv.tags or {}):
        raise PromotionError(
            f"{model_name} version {mv.version} was never '{CHAMPION}': a rollback returns to "
            "a version that passed its gates; use `risk promote` for a new one"
        )
    try:
        previous: str | None = str(client.get_model_version_by_alias(model_name, CHAMPION).version)
    except MlflowException:
        previous = None
    when = now()
    target = str(mv.version)
    client.set_registered_model_alias(model_name, CHAMPION, target)
    for key, value in (
        (TAG_ROLLBACK_AT, when),
        (TAG_ROLLBACK_BY, who),
        (TAG_ROLLBACK_REASON, why[:TAG_LIMIT]),
        (TAG_ROLLBACK_FROM, previous or "none"),
    ):
        client.set_model_version_tag(model_name, target, key, value)
    describe_version(
        client,
        model_name,
        target,
        governance_note(f"champion again: rollback from v{previous or '—'}", when, who, why),
        append=True,
    )
    if previous is not None:
        for key, value in (
            (TAG_ROLLED_BACK_AT, when),
            (TAG_ROLLED_BACK_BY, who),
            (TAG_ROLLED_BACK_REASON, why[:TAG_LIMIT]),
            (TAG_ROLLED_BACK_TO, target),
        ):
            client.set_model_version_tag(model_name, previous, key, value)
        describe_version(
            client,
            model_name,
            previous,
            governance_note(f"rolled back: champion moved to v{target}", when, who, why),
            append=True,
        )
    return RollbackResult(
        model_name=model_name, version=target, previous=previous, by=who, reason=why, at=when
    )
