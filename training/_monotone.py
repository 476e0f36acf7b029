"""Monotone constraints, pure: which inputs may only raise (or lower) the score, and the cost.

The model definition lists them (``[lightgbm] monotone_increasing`` and ``monotone_decreasing``,
resolved against the feature registry by ``training/_config.py``); :func:`constraint_vector` turns
them into LightGBM's ``monotone_constraints`` for one list of inputs, and
:func:`monotone_card_section` shows, in the model card, what they cost in accuracy next to the
same model trained without them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from training._config import LightGBMSection

#: Metrics the card compares with and without constraints: key, label, decimals.
COMPARED: tuple[tuple[str, str, int], ...] = (
    ("roc_auc", "ROC AUC", 3),
    ("precision_at_capacity", "Precision at capacity", 3),
)


def constraint_vector(features: Sequence[str], section: LightGBMSection) -> list[int]:
    """LightGBM's ``monotone_constraints`` for ``features``: +1, -1 or 0 (free), in order.

    Examples
    --------
    >>> section = LightGBMSection(monotone_increasing=("a_n_90d",),
    ...                           monotone_decreasing=("a_since",))
    >>> constraint_vector(["n_children", "a_n_90d", "a_since"], section)
    [0, 1, -1]
    """
    up, down = set(section.monotone_increasing), set(section.monotone_decreasing)
    return [1 if f in up else -1 if f in down else 0 for f in features]


def constrained_params(
    params: Mapping[str, object], features: Sequence[str], section: LightGBMSection
) -> dict[str, object]:
    """``params`` with ``monotone_constraints`` for ``features`` when any of them is constrained.

    Examples
    --------
    >>> section = LightGBMSection(monotone_increasing=("x",))
    >>> constrained_params({"seed": 0}, ["x", "y"], section)["monotone_constraints"]
    [1, 0]
    >>> "monotone_constraints" in constrained_params({"seed": 0}, ["y"], section)
    False
    """
    vector = constraint_vector(features, section)
    if not any(vector):
        return dict(params)
    return {**dict(params), "monotone_constraints": vector}


def _fmt(x: float | None, digits: int) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def _grouped(features: Sequence[str]) -> str:
    # One line per event type: "school_absence (n_90d, n_365d, days_90d)".
    by_type: dict[str, list[str]] = {}
    for f in features:
        for marker in ("_n_", "_days_", "_roubles_"):
            if marker in f:
                head, tail = f.split(marker, 1)
                by_type.setdefault(head, []).append(marker.strip("_") + "_" + tail)
                break
        else:
            by_type.setdefault(f, [])
    return "; ".join(f"`{t}` ({', '.join(v)})" if v else f"`{t}`" for t, v in by_type.items())


def monotone_card_section(
    section: LightGBMSection,
    features: Sequence[str],
    constrained: Mapping[str, float],
    unconstrained: Mapping[str, float] | None,
) -> str:
    """Render the model card's "Monotone constraints" section.

    ``constrained`` and ``unconstrained`` are test metrics (``roc_auc``,
    ``precision_at_capacity``) of the model as trained and of the same model trained without
    constraints on the same split (``None`` when no input was constrained).

    Examples
    --------
    >>> print(monotone_card_section(LightGBMSection(), ["x"], {"roc_auc": 0.8}, None))
    No input is constrained: the model may learn that more records of a problem lower a score.
    """
    vector = constraint_vector(features, section)
    up = [f for f, v in zip(features, vector, strict=True) if v > 0]
    down = [f for f, v in zip(features, vector, strict=True) if v < 0]
    if not up and not down:
        return (
            "No input is constrained: the model may learn that more records of a problem lower "
            "a score."
        )
    parts = [
        f"{len(up) + len(down)} of {len(features)} inputs record a problem and are constrained, "
        "so that more records of a problem never lower a family's score (the model definition "
        "lists them and says why, and which signals are left free):",
        f"- never lower the score as they grow ({len(up)}): {_grouped(up)}",
        f"- never raise the score as they grow ({len(down)}, days since the last record): "
        f"{_grouped(down)}",
    ]
    if unconstrained is None:
        parts.append("The same model without constraints was not trained for this run.")
        return "\n\n".join(parts)
    rows = []
    for key, label, digits in COMPARED:
        ours, theirs = constrained.get(key), unconstrained.get(key)
        diff = math.nan if ours is None or theirs is None else float(ours) - float(theirs)
        sign = "+" if math.isfinite(diff) and diff >= 0 else ""
        rows.append(
            f"| {label} (test) | {_fmt(ours, digits)} | {_fmt(theirs, digits)} | "
            f"{sign}{_fmt(diff, digits)} |"
        )
    table = "\n".join(
        [
            "| test metric | with constraints (as trained) | without | with − without |",
            "|---|---|---|---|",
            *rows,
        ]
    )
    parts += [
        "What they cost, against the same model trained without constraints on the same split "
        "(a negative difference is accuracy given up so that the explanations read right):",
        table,
    ]
    return "\n\n".join(parts)
