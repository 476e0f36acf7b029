"""Reading a pack's ``[review]`` table: the working calendar's country and review deadlines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from risk.regions._keys import (
    MISSING,
    Problems,
    check_unknown_keys,
    get_table,
    get_text,
    get_whole,
)
from risk.regions._pack import ReviewSettings

_REVIEW_KEYS = ("country", "subdivision", "sla_working_days", "first_contact_working_days")
_WHERE = "[review]"


def read_review(doc: Mapping[str, Any], problems: Problems) -> ReviewSettings | None:
    """Parse ``[review]`` (optional: None when absent), reporting every problem."""
    if "review" not in doc:
        return None
    table = get_table(doc, "review", _WHERE, problems)
    if table is None:
        return None
    check_unknown_keys(table, _REVIEW_KEYS, _WHERE, problems)
    country = get_text(table, "country", _WHERE, problems)
    subdivision: str | None = None
    if table.get("subdivision", MISSING) is not MISSING:
        subdivision = get_text(table, "subdivision", _WHERE, problems)
    sla = get_whole(table, "sla_working_days", _WHERE, problems, required=True, minimum=1)
    first = get_whole(
        table, "first_contact_working_days", _WHERE, problems, required=True, minimum=1
    )
    if country is not None and not _known(country, subdivision, problems):
        return None
    if country is None or sla is None or first is None:
        return None
    return ReviewSettings(
        country=country,
        subdivision=subdivision,
        sla_working_days=sla,
        first_contact_working_days=first,
    )


def _known(country: str, subdivision: str | None, problems: Problems) -> bool:
    # Imported here: the holidays package is needed only by packs that name a country.
    import holidays

    supported = holidays.list_supported_countries()
    if country not in supported:
        problems.add(
            f"{_WHERE}.country",
            f"{country!r} is not a country code the holidays package knows (e.g. 'RU')",
        )
        return False
    if subdivision is not None and subdivision not in supported[country]:
        known = ", ".join(supported[country]) or "none"
        problems.add(
            f"{_WHERE}.subdivision",
            f"{subdivision!r} is not a subdivision of {country}; subdivisions are {known}",
        )
        return False
    return True
