"""What the queue needs from a scoring run, and how a run becomes queue rows (pure).

Every flag's payload is checked against :class:`risk.FlagPayload` here, before anything is
written: the store keeps only what the family card can render.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from risk._payload import SCORE_COLUMNS, PayloadError, validate_payload
from risk.review._errors import ReviewError

_FLAGS = ("single_parent", "large_family", "disabled_child", "low_income")


@runtime_checkable
class ScreeningLike(Protocol):
    """A scoring run as the review queue sees it (``risk.Screener.screen`` returns one).

    Attributes
    ----------
    scores : pandas.DataFrame
        One row per scored family with the columns in ``SCORE_COLUMNS``; rows with
        ``flagged == True`` become queue items.
    """

    @property
    def scores(self) -> pd.DataFrame:
        """One row per scored family."""
        ...

    def flag_payloads(self) -> Mapping[str, Mapping[str, Any]]:
        """For each flagged family_id, what the specialist is shown: a :class:`risk.FlagPayload`.

        Each value is checked with :func:`risk.validate_payload` and must be JSON-serialisable;
        it is stored as shown.
        """
        ...


@dataclass(frozen=True)
class PreparedRun:
    """A run checked and turned into rows, ready to insert."""

    run_id: str
    model_version: str
    as_of: str
    n_scored: int
    tier_counts: Mapping[str, int]
    flags: tuple[dict[str, Any], ...]


def prepare_run(screening: ScreeningLike, run_id: str) -> PreparedRun:
    """Check a screening and build its run and flag rows, without touching the store.

    Raises
    ------
    ReviewError
        Naming the run and what is wrong: missing columns, several model versions or as-of
        dates, duplicate families, or a flagged family without a JSON payload.
    PayloadError
        Naming the run, the family and the key: a payload that is not a
        :class:`risk.FlagPayload` (a key missing, a value of the wrong type).
    """
    if not isinstance(run_id, str) or not run_id.strip() or len(run_id) > 128:
        raise ReviewError(
            f"run_id must be a non-blank string of at most 128 characters; got {run_id!r}"
        )
    scores = screening.scores
    missing = [c for c in SCORE_COLUMNS if c not in scores.columns]
    if missing:
        raise ReviewError(f"run {run_id}: screening.scores lacks columns {', '.join(missing)}")
    for col in ("model_version", "as_of"):
        values = scores[col].dropna().unique()
        if len(values) > 1:
            raise ReviewError(
                f"run {run_id}: scores.{col} must hold one value; got {len(values)} "
                f"({', '.join(map(str, values[:3]))})"
            )
    dup = scores["family_id"][scores["family_id"].duplicated()]
    if len(dup):
        raise ReviewError(
            f"run {run_id}: {len(dup)} families scored twice (family_id "
            f"{', '.join(map(str, dup.iloc[:5]))})"
        )
    model_version = str(scores["model_version"].iloc[0]) if len(scores) else "unknown"
    as_of = _as_of_text(scores["as_of"].iloc[0]) if len(scores) else ""
    flagged = scores[scores["flagged"].fillna(False).astype(bool)]
    payloads = screening.flag_payloads() if len(flagged) else {}
    lacking = [f for f in flagged["family_id"].astype(str) if f not in payloads]
    if lacking:
        raise ReviewError(
            f"run {run_id}: flag_payloads() has no payload for {len(lacking)} flagged families "
            f"(family_id {', '.join(lacking[:5])})"
        )
    tier_counts = {str(k): int(v) for k, v in scores["tier"].value_counts().sort_index().items()}
    rows = []
    columns = zip(
        flagged["family_id"].astype(str).tolist(),
        flagged["district"].astype(str).tolist(),
        flagged["score"].to_numpy(dtype=float).tolist(),
        flagged["log_odds"].to_numpy(dtype=float).tolist(),
        flagged["tier"].astype(str).tolist(),
        flagged["rank_in_district"].to_numpy(dtype="int64").tolist(),
        strict=True,
    )
    for fid, district, score, log_odds, tier, rank in columns:
        try:
            payload_json = json.dumps(payloads[fid], ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ReviewError(
                f"run {run_id}: payload of family {fid} is not JSON-serialisable: {exc}"
            ) from None
        try:
            validate_payload(payloads[fid], family_id=fid)
        except PayloadError as exc:
            raise PayloadError(f"run {run_id}: {exc}") from None
        rows.append(
            {
                "family_id": fid,
                "district": district,
                "score": score,
                "log_odds": log_odds,
                "tier": tier,
                "rank_in_district": rank,
                **group_attributes(payloads[fid]),
                "payload_json": payload_json,
            }
        )
    return PreparedRun(
        run_id=run_id,
        model_version=model_version,
        as_of=as_of,
        n_scored=len(scores),
        tier_counts=tier_counts,
        flags=tuple(rows),
    )


def group_attributes(payload: Mapping[str, Any]) -> dict[str, str | bool | None]:
    """Read a flag payload's group attributes (``GROUP_ATTRIBUTES``); None where it is silent.

    Looked up in the payload's ``composition``, then its ``context`` (if any), then its
    ``contributions`` (a feature of that name, true when its value is above 0); ``settlement``
    also at the payload's top level. Anything else (a malformed value) counts as missing.

    Examples
    --------
    >>> a = group_attributes({"settlement": "rural", "composition": {"single_parent": True},
    ...                       "contributions": [{"feature": "large_family", "value": 0.0}]})
    >>> a["settlement"], a["single_parent"], a["large_family"], a["low_income"]
    ('rural', True, False, None)
    """
    sources: list[Mapping[str, Any]] = []
    for key in ("composition", "context"):
        part = payload.get(key)
        if isinstance(part, Mapping):
            sources.append(part)
    contributions = payload.get("contributions")
    if isinstance(contributions, list):
        sources.append(
            {
                c["feature"]: c.get("value")
                for c in contributions
                if isinstance(c, Mapping) and isinstance(c.get("feature"), str)
            }
        )
    out: dict[str, str | bool | None] = {}
    settlement = next((s["settlement"] for s in sources if "settlement" in s), None)
    if settlement is None:
        settlement = payload.get("settlement")
    out["settlement"] = str(settlement)[:64] if isinstance(settlement, str) and settlement else None
    for name in _FLAGS:
        out[name] = next(
            (b for b in (_as_flag(s.get(name)) for s in sources if name in s) if b is not None),
            None,
        )
    return out


def _as_flag(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
        return bool(value > 0)
    return None


def _as_of_text(value: object) -> str:
    if isinstance(value, str):
        return value
    ts = pd.Timestamp(value)  # type: ignore[arg-type]
    return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat()
