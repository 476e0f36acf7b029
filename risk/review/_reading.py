"""Reading the queue: items a page at a time, counts, and one item with its payload."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa

from risk.review import _models as m
from risk.review._audit import AuditEntry, append
from risk.review._errors import ReviewError, UnknownItem
from risk.review._policy import STATUSES, TIER_ORDER
from risk.review._session import Session, _frame, _utc
from risk.review._users import User
from risk.review._views import view_details

ITEM_COLUMNS: tuple[str, ...] = (
    "flag_id",
    "run_id",
    "family_id",
    "district",
    "status",
    "score",
    "log_odds",
    "tier",
    "rank_in_district",
    "version",
    "created_at",
    "escalated_at",
    "decided_at",
    "model_version",
    "as_of",
)
#: Orders of :meth:`ReviewQueue.items`: ``queue`` (tier as in ``TIER_ORDER``, then score
#: high to low), ``score`` (high to low) or ``age`` (longest waiting first); ties by flag_id.
ORDERS: tuple[str, ...] = ("queue", "score", "age")
Order = Literal["queue", "score", "age"]


@dataclass(frozen=True)
class ReviewItem:
    """One queue item with what the specialist is shown (``payload``)."""

    flag_id: int
    run_id: str
    family_id: str
    district: str
    status: str
    score: float
    log_odds: float
    tier: str
    rank_in_district: int
    version: int
    created_at: datetime
    escalated_at: datetime | None
    decided_at: datetime | None
    model_version: str
    as_of: str
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Filters:
    """Checked filters of :meth:`ReviewQueue.items` and :meth:`ReviewQueue.count_items`."""

    run_id: str | None
    statuses: tuple[str, ...] | None
    districts: tuple[str, ...] | None
    tiers: tuple[str, ...] | None
    created_before: datetime | None

    @classmethod
    def of(
        cls,
        run_id: str | None,
        status: str | Iterable[str] | None,
        districts: Iterable[str] | None,
        tier: str | Iterable[str] | None,
        created_before: datetime | None,
    ) -> _Filters:
        statuses = _strings(status)
        bad = [s for s in statuses or () if s not in STATUSES]
        if bad:
            raise ReviewError(f"status must be among {', '.join(STATUSES)}; got {', '.join(bad)}")
        return cls(
            run_id=run_id,
            statuses=statuses,
            districts=None if districts is None else tuple(sorted({str(d) for d in districts})),
            tiers=_strings(tier),
            created_before=None if created_before is None else _utc(created_before),
        )


@dataclass(frozen=True)
class ItemPage:
    """One page of queue items with the counts beside it, read in one transaction.

    Attributes
    ----------
    items : pandas.DataFrame
        The page's items (``ITEM_COLUMNS``), in queue order.
    total : int
        Items matching the filters (what :meth:`Reading.count_items` counts).
    overdue : int
        How many of them are overdue: escalated, or open and enqueued before the cutoff.
    page, n_pages : int
        This page (from 1, clipped to the last) and the number of pages (at least 1).
    """

    items: pd.DataFrame
    total: int
    overdue: int
    page: int
    n_pages: int


def _strings(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)


def _tier_rank() -> sa.Case[Any]:
    """Position of the item's tier in ``TIER_ORDER`` (unknown tiers last)."""
    return sa.case(
        {t: i for i, t in enumerate(TIER_ORDER)}, value=m.flags.c.tier, else_=len(TIER_ORDER)
    )


def _item_select() -> sa.Select[Any]:
    f = m.flags.c
    return sa.select(
        *(getattr(f, c) for c in ITEM_COLUMNS[:13]), m.runs.c.model_version, m.runs.c.as_of
    ).join_from(m.flags, m.runs, m.flags.c.run_id == m.runs.c.run_id)


def _filtered(
    q: sa.Select[Any], where: _Filters, districts: tuple[str, ...] | None
) -> sa.Select[Any]:
    f = m.flags.c
    if where.run_id is not None:
        q = q.where(f.run_id == where.run_id)
    if where.statuses is not None:
        q = q.where(f.status.in_(where.statuses))
    if districts is not None:
        q = q.where(f.district.in_(districts))
    if where.tiers is not None:
        q = q.where(f.tier.in_(where.tiers))
    if where.created_before is not None:
        q = q.where(f.created_at < where.created_before)
    return q


class Reading:
    """List, count and open queue items, within the acting user's districts."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def items(
        self,
        *,
        run_id: str | None,
        status: str | Iterable[str] | None,
        districts: Iterable[str] | None,
        tier: str | Iterable[str] | None,
        created_before: datetime | None,
        user: User | str | None,
        order: Order,
        limit: int | None,
        offset: int,
    ) -> pd.DataFrame:
        """Items matching the filters, ordered and paged (see :meth:`ReviewQueue.items`)."""
        where = _Filters.of(run_id, status, districts, tier, created_before)
        if order not in ORDERS:
            raise ReviewError(f"order must be one of {', '.join(ORDERS)}; got {order!r}")
        if limit is not None and int(limit) < 0 or int(offset) < 0:
            raise ReviewError(f"limit and offset must be at least 0; got {limit} and {offset}")
        f = m.flags.c
        by: tuple[Any, ...]
        if order == "queue":
            by = (_tier_rank(), f.score.desc(), f.flag_id)
        elif order == "score":
            by = (f.score.desc(), f.flag_id)
        else:
            by = (f.created_at, f.flag_id)

        def body(conn: sa.Connection) -> list[Any]:
            q = self._where(conn, _item_select(), where, user, "list queue")
            q = q.order_by(*by).offset(int(offset))
            if limit is not None:
                q = q.limit(int(limit))
            return list(conn.execute(q).all())

        rows = self.session.read_as(body, user)
        return _frame(rows, ITEM_COLUMNS, ints=("flag_id", "rank_in_district", "version"))

    def count_items(
        self,
        *,
        run_id: str | None,
        status: str | Iterable[str] | None,
        districts: Iterable[str] | None,
        tier: str | Iterable[str] | None,
        created_before: datetime | None,
        user: User | str | None,
    ) -> int:
        """How many items :meth:`items` would list (one SQL count)."""
        where = _Filters.of(run_id, status, districts, tier, created_before)

        def body(conn: sa.Connection) -> int:
            q = sa.select(sa.func.count()).select_from(m.flags)
            return int(conn.execute(self._where(conn, q, where, user, "list queue")).scalar_one())

        return self.session.read_as(body, user)

    def page(
        self,
        *,
        status: str | Iterable[str] | None,
        districts: Iterable[str] | None,
        tier: str | Iterable[str] | None,
        user: User | str,
        page: int,
        page_size: int,
        overdue_before: datetime,
    ) -> ItemPage:
        """Read a page of items in queue order, their count and how many are overdue.

        One read transaction: the acting user is loaded once, one aggregate query counts the
        items and the overdue ones (``is_overdue``: escalated, or open and enqueued before
        ``overdue_before``), and the page, clipped to the last, is read with ``limit``.
        """
        where = _Filters.of(None, status, districts, tier, None)
        if int(page_size) < 1:
            raise ReviewError(f"page_size must be at least 1; got {page_size}")
        f = m.flags.c
        late = sa.or_(
            f.status == "escalated",
            sa.and_(f.status == "open", f.created_at < _utc(overdue_before)),
        )

        def body(conn: sa.Connection) -> ItemPage:
            acting = self.session.acting_user(conn, user, "list queue")
            allowed = self._allowed_to(acting, where, "list queue")
            counted: tuple[Any, ...] = (sa.func.count(), sa.func.sum(sa.case((late, 1), else_=0)))
            counts = sa.select(*counted).select_from(m.flags)
            row = conn.execute(_filtered(counts, where, allowed)).one()
            total, overdue = int(row[0]), int(row[1] or 0)
            n_pages = max(1, -(-total // int(page_size)))
            at = min(max(1, int(page)), n_pages)
            q = _filtered(_item_select(), where, allowed)
            q = q.order_by(_tier_rank(), f.score.desc(), f.flag_id)
            rows = conn.execute(q.offset((at - 1) * int(page_size)).limit(int(page_size))).all()
            items = _frame(rows, ITEM_COLUMNS, ints=("flag_id", "rank_in_district", "version"))
            return ItemPage(items, total, overdue, at, n_pages)

        return self.session.read_checked(body)

    def _where(
        self,
        conn: sa.Connection,
        q: sa.Select[Any],
        where: _Filters,
        user: User | str | None,
        doing: str,
    ) -> sa.Select[Any]:
        """Apply the filters, and the acting user's districts (asking for others is refused)."""
        return _filtered(q, where, self._allowed(conn, where, user, doing))

    def _allowed(
        self, conn: sa.Connection, where: _Filters, user: User | str | None, doing: str
    ) -> tuple[str, ...] | None:
        """Districts to list: those asked for (each checked) or all of the acting user's."""
        if user is None:
            return where.districts
        return self._allowed_to(self.session.acting_user(conn, user, doing), where, doing)

    def _allowed_to(self, acting: User, where: _Filters, doing: str) -> tuple[str, ...]:
        if where.districts is None:
            return tuple(sorted(acting.districts))
        for d in where.districts:
            self.session.check_access(acting, d, doing)
        return where.districts

    def item(self, flag_id: int, user: User | str, session: str | None = None) -> ReviewItem:
        """One item with its payload (access checked, the view audited, with its session)."""

        def body(conn: sa.Connection) -> ReviewItem:
            acting = self.session.acting_user(conn, user, f"view flag {flag_id}")
            row = conn.execute(
                _item_select()
                .add_columns(m.flag_payloads.c.payload_json)
                .join(m.flag_payloads, m.flag_payloads.c.flag_id == m.flags.c.flag_id)
                .where(m.flags.c.flag_id == int(flag_id))
            ).first()
            if row is None:
                raise UnknownItem(f"flag {flag_id}: no such queue item")
            self.session.check_access(
                acting, row.district, f"view flag {flag_id}", flag_id=int(flag_id)
            )
            append(
                conn,
                [
                    AuditEntry(
                        acting.name,
                        "view_family",
                        f"family {row.family_id}",
                        view_details(int(flag_id), row.district, row.version, session),
                    )
                ],
            )
            values = {c: getattr(row, c) for c in ITEM_COLUMNS}
            return ReviewItem(**values, payload=json.loads(row.payload_json))

        return self.session.audited(body)


@dataclass(frozen=True)
class FamilyRecord:
    """What the store holds about one family, for the family's own report.

    ``flags`` are the family's queue items (``flag_id``, ``run_id``, ``as_of``, ``status``,
    ``created_at``, ``decided_at``, ``payload``), oldest first; ``decisions`` the people's
    decisions on them (``flag_id``, ``decided_at``, ``decision``, ``role`` of the deciding user,
    ``rationale``, ``services_offered``); ``disputes`` the family's disputed records
    (``event_id``, ``disputed_at``, ``reason``). No user name is included.
    """

    family_id: str
    district: str
    flags: tuple[Mapping[str, Any], ...]
    decisions: tuple[Mapping[str, Any], ...]
    disputes: tuple[Mapping[str, Any], ...]


def family_record(session: Session, family_id: str, user: User | str) -> FamilyRecord:
    """Read a family's items, decisions and disputes for ``user``; audited as ``family_report``."""
    doing = f"family report {family_id}"

    def body(conn: sa.Connection) -> FamilyRecord:
        acting = session.acting_user(conn, user, doing)
        f, d, r = m.flags.c, m.decisions.c, m.disputed_records.c
        rows = conn.execute(
            sa.select(
                f.flag_id,
                f.run_id,
                m.runs.c.as_of,
                f.district,
                f.status,
                f.created_at,
                f.decided_at,
                m.flag_payloads.c.payload_json,
            )
            .join_from(m.flags, m.runs, f.run_id == m.runs.c.run_id)
            .join(m.flag_payloads, m.flag_payloads.c.flag_id == f.flag_id)
            .where(f.family_id == family_id)
            .order_by(f.flag_id)
        ).all()
        if not rows:
            raise UnknownItem(f"{doing}: family {family_id} is not in the review queue")
        district = str(rows[-1].district)
        session.check_access(acting, district, doing, family_id=family_id)
        decided = conn.execute(
            sa.select(
                d.flag_id,
                d.decided_at,
                d.decision,
                m.users.c.role,
                d.rationale,
                d.services_offered_json,
            )
            .join_from(m.decisions, m.flags, d.flag_id == f.flag_id)
            .join(m.users, m.users.c.name == d.user_name)
            .where(f.family_id == family_id)
            .order_by(d.decision_id)
        ).all()
        disputed = conn.execute(
            sa.select(r.event_id, r.disputed_at, r.reason)
            .where(r.family_id == family_id)
            .order_by(r.dispute_id)
        ).all()
        append(
            conn,
            [
                AuditEntry(
                    acting.name,
                    "family_report",
                    f"family {family_id}",
                    {"district": district, "n_flags": len(rows)},
                )
            ],
        )
        return FamilyRecord(
            family_id=family_id,
            district=district,
            flags=tuple(
                {
                    "flag_id": int(x.flag_id),
                    "run_id": x.run_id,
                    "as_of": x.as_of,
                    "status": x.status,
                    "created_at": x.created_at,
                    "decided_at": x.decided_at,
                    "payload": json.loads(x.payload_json),
                }
                for x in rows
            ),
            decisions=tuple(
                {
                    "flag_id": int(x.flag_id),
                    "decided_at": x.decided_at,
                    "decision": x.decision,
                    "role": x.role,
                    "rationale": x.rationale,
                    "services_offered": tuple(json.loads(x.services_offered_json)),
                }
                for x in decided
            ),
            disputes=tuple(
                {"event_id": x.event_id, "disputed_at": x.disputed_at, "reason": x.reason}
                for x in disputed
            ),
        )

    return session.audited(body)
