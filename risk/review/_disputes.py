"""Leaving disputed records out of the records a family is scored on (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # features is only needed by whoever passes Records in
    from features import Records


def exclude_disputed(records: Records, event_ids: Iterable[str]) -> Records:
    """Return ``records`` without the events whose ids are disputed.

    ``Screener.screen`` calls this with ``ReviewQueue.disputed_event_ids()`` before building
    features, so a disputed record never counts when its family is scored again.

    Examples
    --------
    >>> from features import Records
    >>> recs = Records.empty()
    >>> exclude_disputed(recs, {"e1"}).events.shape[0]
    0
    """
    disputed = {str(e) for e in event_ids}
    if not disputed:
        return records
    events = records.events
    keep = ~events["event_id"].astype(str).isin(disputed)
    return records.replace(events=events.loc[keep].reset_index(drop=True))
