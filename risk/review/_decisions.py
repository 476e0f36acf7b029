"""Decision codes and the checks a decision must pass before it reaches the store (pure)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

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
#: Longest rationale, in characters after normalising (the form shows it).
MAX_RATIONALE_LENGTH = 4000
#: Words of at least two letters a rationale must contain.
MIN_RATIONALE_WORDS = 3
#: Letters a rationale must contain (digits, punctuation and spaces do not count).
MIN_RATIONALE_LETTERS = 12
MIN_DISPUTE_REASON_LENGTH = 10
#: Longest dispute reason, in characters after normalising.
MAX_DISPUTE_REASON_LENGTH = 2000
#: Longest service name, and most services in one decision.
MAX_SERVICE_NAME_LENGTH = 200
MAX_SERVICES = 50

_WORD = re.compile(r"[^\W\d_]{2,}")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalize_text(text: str) -> str:
    r"""Normalise what a person wrote: NFC, no control or invisible characters, tidy spaces.

    Format characters (zero-width spaces, direction marks) and control characters other than
    a line break are removed; runs of spaces become one space, more than one empty line
    becomes one, and the ends are stripped.

    Examples
    --------
    >>> normalize_text("  Visited\u200b  the\tfamily.\x00\r\n\n\n\nAll  well. ")
    'Visited the family.\n\nAll well.'
    >>> normalize_text("e\u0301te\u0301") == "\u00e9t\u00e9"
    True
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    kept = "".join(
        " " if ch == "\t" else ch
        for ch in text
        if ch in "\n\t" or unicodedata.category(ch)[0] != "C"
    )
    lines = [_SPACES.sub(" ", line).strip() for line in kept.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


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
    """Validate a decision; return the normalised rationale and services as a tuple.

    The rationale is normalised (:func:`normalize_text`), then must hold
    ``MIN_RATIONALE_LENGTH`` to ``MAX_RATIONALE_LENGTH`` characters and real words
    (``MIN_RATIONALE_WORDS`` words, ``MIN_RATIONALE_LETTERS`` letters): zero-width characters
    or a row of dots are not a rationale.

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
            f"flag {flag_id}: decision must be one of {', '.join(DECISIONS)}; got {decision!r}",
            reason="unknown_decision",
        )
    text = normalize_text(rationale) if isinstance(rationale, str) else ""
    if len(text) < MIN_RATIONALE_LENGTH:
        raise InvalidDecision(
            f"flag {flag_id}: rationale must be at least {MIN_RATIONALE_LENGTH} characters; "
            f"got {len(text)}",
            reason="rationale_short",
            params={"min": MIN_RATIONALE_LENGTH, "got": len(text)},
        )
    if len(text) > MAX_RATIONALE_LENGTH:
        raise InvalidDecision(
            f"flag {flag_id}: rationale must be at most {MAX_RATIONALE_LENGTH} characters; "
            f"got {len(text)}",
            reason="rationale_long",
            params={"max": MAX_RATIONALE_LENGTH, "got": len(text)},
        )
    words = _WORD.findall(text)
    letters = sum(len(w) for w in words)
    if len(words) < MIN_RATIONALE_WORDS or letters < MIN_RATIONALE_LETTERS:
        raise InvalidDecision(
            f"flag {flag_id}: rationale must be written in words (at least "
            f"{MIN_RATIONALE_WORDS} words and {MIN_RATIONALE_LETTERS} letters); got "
            f"{len(words)} words and {letters} letters",
            reason="rationale_words",
            params={"words": MIN_RATIONALE_WORDS, "letters": MIN_RATIONALE_LETTERS},
        )
    if isinstance(services_offered, str):
        services_offered = [services_offered]
    services = tuple(normalize_text(str(s)) for s in services_offered)
    if any(not s for s in services):
        raise InvalidDecision(
            f"flag {flag_id}: services_offered must not contain blank names",
            reason="services_blank",
        )
    if len(services) > MAX_SERVICES or any(len(s) > MAX_SERVICE_NAME_LENGTH for s in services):
        raise InvalidDecision(
            f"flag {flag_id}: at most {MAX_SERVICES} services of at most "
            f"{MAX_SERVICE_NAME_LENGTH} characters each",
            reason="services_too_many",
            params={"max": MAX_SERVICES, "length": MAX_SERVICE_NAME_LENGTH},
        )
    if decision == "support_offered" and not services:
        raise InvalidDecision(
            f"flag {flag_id}: decision 'support_offered' needs the services offered; got none",
            reason="services_required",
        )
    if decision != "support_offered" and services:
        raise InvalidDecision(
            f"flag {flag_id}: services_offered only goes with 'support_offered'; got "
            f"{len(services)} services with {decision!r}",
            reason="services_not_allowed",
            params={"decision": decision},
        )
    if not isinstance(agrees_with_model, bool):
        raise InvalidDecision(
            f"flag {flag_id}: agrees_with_model must be True or False; got {agrees_with_model!r}",
            reason="agreement_required",
        )
    return text, services


def check_services_available(
    flag_id: int, district: str, services: Iterable[str], available: Iterable[str]
) -> None:
    """Refuse services that are not in the catalogue of the family's district.

    A family can be offered any service available in its district (``available``: the
    catalogue's service ids there); anything else, a typo or text typed in place of a
    service, is refused, naming what was sent.

    Raises
    ------
    InvalidDecision
        Naming the flag, the district and the unknown services.

    Examples
    --------
    >>> check_services_available(17, "north", ["svc-1"], ["svc-1", "svc-2"])
    >>> check_services_available(17, "north", ["svc-1", "svc-9"], ["svc-1"])
    Traceback (most recent call last):
    ...
    risk.review._errors.InvalidDecision: flag 17: 1 of the services offered is not a service \
available in this family's district (north) in the services catalogue: 'svc-9'
    """
    known = set(available)
    unknown = list(dict.fromkeys(s for s in services if s not in known))
    if unknown:
        shown = ", ".join(repr(s[:60]) for s in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise InvalidDecision(
            f"flag {flag_id}: {len(unknown)} of the services offered "
            f"{'is not a service' if len(unknown) == 1 else 'are not services'} available in "
            f"this family's district ({district}) in the services catalogue: {shown}{more}"
        )


def district_service_ids(catalog: Any, district: str) -> tuple[str, ...]:
    """Return the ids of the services a ``risk.ServiceCatalog`` has in ``district``.

    A district the catalogue does not know has none.
    """
    from risk import CatalogError

    try:
        return tuple(str(s) for s in catalog.for_district(district)["service_id"])
    except CatalogError:
        return ()


def check_dispute_reason(event_id: str, reason: str) -> str:
    """Validate the reason a record is disputed; return it normalised (at most 2,000 characters).

    Examples
    --------
    >>> check_dispute_reason("e1", "  wrong family, same surname  ")
    'wrong family, same surname'
    """
    text = normalize_text(reason) if isinstance(reason, str) else ""
    if len(text) < MIN_DISPUTE_REASON_LENGTH:
        raise InvalidDecision(
            f"dispute of event {event_id}: reason must be at least "
            f"{MIN_DISPUTE_REASON_LENGTH} characters; got {len(text)}",
            reason="dispute_reason_short",
            params={"min": MIN_DISPUTE_REASON_LENGTH, "got": len(text)},
        )
    if len(text) > MAX_DISPUTE_REASON_LENGTH:
        raise InvalidDecision(
            f"dispute of event {event_id}: reason must be at most "
            f"{MAX_DISPUTE_REASON_LENGTH} characters; got {len(text)}",
            reason="dispute_reason_long",
            params={"max": MAX_DISPUTE_REASON_LENGTH, "got": len(text)},
        )
    return text
