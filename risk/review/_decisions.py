"""Decision codes and the checks a decision must pass before it reaches the store (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from risk.review._errors import InvalidDecision

DecisionCode = Literal[
    "support_offered",
    "no_outreach_needed",
    "referred",
    "insufficient_information",
    "family_declined",
]

#: The outreach-oriented decisions of DESIGN.md §6.
DECISIONS: tuple[str, ...] = (
    "support_offered",
    "no_outreach_needed",
    "referred",
    "insufficient_information",
    "family_declined",
)
MIN_RATIONALE_LENGTH = 20
MIN_DISPUTE_REASON_LENGTH = 10


@dataclass(frozen=True)
class Decision:
    """One recorded decision on a queue item."""

    decision_id: int
    flag_id: int
    user: str
    decided_at: datetime
    decision: str
    rationale: str
    services_offered: tuple[str, ...]
    agrees_with_model: bool
    item_version: int


def check_decision(
    flag_id: int,
    decision: str,
    rationale: str,
    services_offered: Iterable[str],
    agrees_with_model: object,
) -> tuple[str, tuple[str, ...]]:
    """Validate a decision; return the stripped rationale and the services as a tuple.

    Raises
    ------
    InvalidDecision
        Naming the flag and the rule, e.g. ``flag 17: rationale must be at least 20
        characters; got 5``.

    Examples
    --------
    >>> check_decision(17, "referred", "Referred to the school psychologist.", (), True)
    ('Referred to the school psychologist.', ())
    >>> check_decision(17, "referred", "ok ok", (), True)
    Traceback (most recent call last):
    ...
    risk.review._errors.InvalidDecision: flag 17: rationale must be at least 20 characters; got 5
    """
    if decision not in DECISIONS:
        raise InvalidDecision(
            f"flag {flag_id}: decision must be one of {', '.join(DECISIONS)}; got {decision!r}"
        )
    text = rationale.strip() if isinstance(rationale, str) else ""
    if len(text) < MIN_RATIONALE_LENGTH:
        raise InvalidDecision(
            f"flag {flag_id}: rationale must be at least {MIN_RATIONALE_LENGTH} characters; "
            f"got {len(text)}"
        )
    if isinstance(services_offered, str):
        services_offered = [services_offered]
    services = tuple(str(s).strip() for s in services_offered)
    if any(not s for s in services):
        raise InvalidDecision(f"flag {flag_id}: services_offered must not contain blank names")
    if decision == "support_offered" and not services:
        raise InvalidDecision(
            f"flag {flag_id}: decision 'support_offered' needs the services offered; got none"
        )
    if decision != "support_offered" and services:
        raise InvalidDecision(
            f"flag {flag_id}: services_offered only goes with 'support_offered'; got "
            f"{len(services)} services with {decision!r}"
        )
    if not isinstance(agrees_with_model, bool):
        raise InvalidDecision(
            f"flag {flag_id}: agrees_with_model must be True or False; got {agrees_with_model!r}"
        )
    return text, services


def check_dispute_reason(event_id: str, reason: str) -> str:
    """Validate the reason a record is disputed; return it stripped.

    Examples
    --------
    >>> check_dispute_reason("e1", "  wrong family, same surname  ")
    'wrong family, same surname'
    """
    text = reason.strip() if isinstance(reason, str) else ""
    if len(text) < MIN_DISPUTE_REASON_LENGTH:
        raise InvalidDecision(
            f"dispute of event {event_id}: reason must be at least "
            f"{MIN_DISPUTE_REASON_LENGTH} characters; got {len(text)}"
        )
    return text
