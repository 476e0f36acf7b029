"""The queue tab's content: filter choices, the page as a table, the summary line (pure)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from review_app._i18n import (
    STATUS_NAMES,
    TIER_NAMES,
    Lang,
    count,
    district_name,
    name,
    number,
    percent,
    t,
)
from review_app._service import QueuePage
from risk.review import AWAITING, QUEUED_TIERS, STATUSES

#: The status filter's value for "everything awaiting a decision".
AWAITING_CHOICE = "awaiting"


def tier_choices(lang: Lang) -> list[tuple[str, str]]:
    """Choices of the tier filter: all, or one of the tiers a queue item can have.

    Examples
    --------
    >>> tier_choices("en")
    [('All', ''), ('priority', 'priority')]
    """
    return [(t(lang, "all"), "")] + [(name(TIER_NAMES, x, lang), x) for x in QUEUED_TIERS]


def status_choices(lang: Lang) -> list[tuple[str, str]]:
    """Choices of the status filter: awaiting a decision (the default), or one status.

    Examples
    --------
    >>> [v for _, v in status_choices("en")]
    ['awaiting', 'open', 'escalated', 'decided']
    """
    return [(t(lang, "needs_decision"), AWAITING_CHOICE)] + [
        (name(STATUS_NAMES, s, lang), s) for s in STATUSES
    ]


def statuses(choice: str) -> str | tuple[str, ...]:
    """Return the statuses a status-filter choice lists.

    Examples
    --------
    >>> statuses("awaiting"), statuses("decided")
    (('open', 'escalated'), 'decided')
    """
    return AWAITING if choice in ("", AWAITING_CHOICE) else choice


def queue_table(rows: pd.DataFrame, lang: Lang) -> dict[str, list[Any]]:
    """Render a queue page as the user reads it: names, percentages, SLA marks.

    Returns what ``gr.Dataframe`` shows, as ``{"headers": [...], "data": [[...], ...]}`` (plain
    Python values: a page is 25 rows, and a second DataFrame only to be turned back into lists
    cost more than the rest of the page's rendering).

    Examples
    --------
    >>> from datetime import datetime
    >>> page = pd.DataFrame({"flag_id": [7], "family_id": ["F-1"], "district": ["north"],
    ...     "tier": ["priority"], "score": [0.42], "status": ["open"], "age_days": [3],
    ...     "overdue": [False], "version": [1], "created_at": [datetime(2025, 6, 2)]})
    >>> table = queue_table(page, "en")
    >>> len(table["headers"]), table["data"][0][:2], table["data"][0][5]
    (8, [7, 'F-1'], 3)
    """
    L = lang
    in_time, overdue = t(L, "in_time"), t(L, "overdue")
    headers = [
        t(L, c)
        for c in (
            "col_flag",
            "col_family",
            "col_district",
            "col_tier",
            "col_score",
            "col_age",
            "col_sla",
            "col_status",
        )
    ]
    columns = zip(
        rows["flag_id"].tolist(),
        rows["family_id"].tolist(),
        rows["district"].tolist(),
        rows["tier"].tolist(),
        rows["score"].tolist(),
        rows["age_days"].tolist(),
        rows["overdue"].tolist(),
        rows["status"].tolist(),
        strict=True,
    )
    data = [
        [
            int(flag),
            str(family),
            district_name(str(district), L),
            name(TIER_NAMES, tier, L),
            percent(float(score), L),
            int(age),
            overdue if late else (in_time if status in AWAITING else ""),
            name(STATUS_NAMES, status, L),
        ]
        for flag, family, district, tier, score, age, late, status in columns
    ]
    return {"headers": headers, "data": data}


def queue_summary(found: QueuePage, page_size: int, sla_working_days: int, lang: Lang) -> str:
    """Which items of how many are shown, how many are overdue, and the SLA (CLDR numbers)."""
    if found.total == 0:
        return t(lang, "queue_empty")
    first = (found.page - 1) * page_size + 1
    return t(
        lang,
        "queue_summary",
        first=number(first, lang),
        last=number(first + len(found.rows) - 1, lang),
        total=number(found.total, lang),
        overdue=number(found.overdue, lang),
        sla=count(sla_working_days, "working_days", lang),
    )
