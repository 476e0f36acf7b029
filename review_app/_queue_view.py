"""The queue tab's content: filter choices, the page as a table, the summary line (pure)."""

from __future__ import annotations

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


def queue_table(rows: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Render a queue page as the user reads it: names, percentages, SLA marks."""
    L = lang
    return pd.DataFrame(
        {
            t(L, "col_flag"): rows["flag_id"].astype("int64").to_numpy(),
            t(L, "col_family"): rows["family_id"].astype(str).to_numpy(),
            t(L, "col_district"): [district_name(d, L) for d in rows["district"].astype(str)],
            t(L, "col_tier"): [name(TIER_NAMES, x, L) for x in rows["tier"]],
            t(L, "col_score"): [percent(float(x), L) for x in rows["score"]],
            t(L, "col_age"): rows["age_days"].astype("int64").to_numpy(),
            t(L, "col_sla"): [
                t(L, "overdue") if o else (t(L, "in_time") if s in AWAITING else "")
                for o, s in zip(rows["overdue"], rows["status"], strict=True)
            ],
            t(L, "col_status"): [name(STATUS_NAMES, x, L) for x in rows["status"]],
        }
    )


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
