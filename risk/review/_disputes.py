"""Disputed records: marking a family's record as disputed, and leaving it out when scoring."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import sqlalchemy as sa

from risk.review import _models as m
from risk.review._audit import AuditEntry, append
from risk.review._decisions import check_dispute_reason
from risk.review._errors import UnknownItem
from risk.review._session import Session, _utc
from risk.review._users import User

if TYPE_CHECKING:  # features is only needed by whoever passes Records in
    from features import Records


class Disputes:
    """Record disputes of records (access through the family's district in the queue)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def dispute(self, event_id: str, user: User | str, reason: str, *, family_id: str) -> int:
        """Mark a family's record as disputed; return the dispute's id."""
        text = check_dispute_reason(event_id, reason)
        doing = f"dispute event {event_id}"

        def body(conn: sa.Connection) -> int:
            acting = self.session.acting_user(conn, user, doing)
            district = conn.execute(
                sa.select(m.flags.c.district)
                .where(m.flags.c.family_id == family_id)
                .order_by(m.flags.c.flag_id.desc())
                .limit(1)
            ).scalar()
            if district is None:
                raise UnknownItem(
                    f"{doing}: family {family_id} is not in the review queue",
                    reason="family_not_queued",
                )
            self.session.check_access(acting, district, doing, family_id=family_id)
            dispute_id = conn.execute(
                sa.insert(m.disputed_records)
                .values(
                    event_id=event_id,
                    family_id=family_id,
                    user_name=acting.name,
                    reason=text,
                    disputed_at=_utc(),
                )
                .returning(m.disputed_records.c.dispute_id)
            ).scalar_one()
            append(
                conn,
                [
                    AuditEntry(
                        acting.name,
                        "dispute",
                        f"event {event_id}",
                        {"family_id": family_id, "district": district, "reason": text},
                    )
                ],
            )
            return int(dispute_id)

        return self.session.audited(body)

    def disputed_event_ids(self, family_id: str | None) -> set[str]:
        """Ids of disputed records (of one family, or all)."""
        q = sa.select(m.disputed_records.c.event_id).distinct()
        if family_id is not None:
            q = q.where(m.disputed_records.c.family_id == family_id)
        with self.session.read() as conn:
            return set(conn.execute(q).scalars())


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
