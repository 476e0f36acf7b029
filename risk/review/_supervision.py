"""Supervision and the SLA: supervisors' view of decided items, and escalating overdue ones."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from risk._payload import GROUP_ATTRIBUTES
from risk.review import _models as m
from risk.review._audit import AuditEntry, append
from risk.review._errors import AccessDenied, ReviewError
from risk.review._policy import SUPERVISOR_ROLES, past_sla, working_days
from risk.review._session import Session, _frame, _Refusal, _utc
from risk.review._users import User

#: What :meth:`ReviewQueue.decided_attributes` returns: one row per decided item.
DECIDED_ATTRIBUTE_COLUMNS: tuple[str, ...] = (
    "flag_id",
    "decision_id",
    "district",
    "tier",
    "score",
    *GROUP_ATTRIBUTES,
    "decision",
    "agrees_with_model",
    "user",
    "decided_at",
)


class Supervision:
    """What supervisors see, and the escalation of items past the SLA."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def decided_attributes(self, user: User | str) -> pd.DataFrame:
        """Decided items of a supervisor's districts with their group attributes (audited)."""
        doing = "supervisor view"
        f, d = m.flags.c, m.decisions.c
        groups = [getattr(f, a) for a in GROUP_ATTRIBUTES]

        def body(conn: sa.Connection) -> list[Any]:
            acting = self.session.acting_user(conn, user, doing)
            if acting.role not in SUPERVISOR_ROLES:
                raise _Refusal(
                    AccessDenied(
                        f"{doing}: user {acting.name!r} ({acting.role}) is not a supervisor"
                    ),
                    AuditEntry(acting.name, "access_denied", doing, {"reason": "role"}),
                )
            districts = sorted(acting.districts)
            rows = list(
                conn.execute(
                    sa.select(
                        f.flag_id,
                        d.decision_id,
                        f.district,
                        f.tier,
                        f.score,
                        *groups,
                        d.decision,
                        d.agrees_with_model,
                        d.user_name,
                        d.decided_at,
                    )
                    .join_from(m.decisions, m.flags, d.flag_id == f.flag_id)
                    .where(f.status == "decided", f.district.in_(districts))
                    .order_by(d.decision_id)
                ).all()
            )
            append(
                conn,
                [
                    AuditEntry(
                        acting.name,
                        "supervisor_view",
                        "decided attributes",
                        {"districts": districts, "n_decisions": len(rows)},
                    )
                ],
            )
            return rows

        rows = self.session.audited(body)
        out = _frame(rows, DECIDED_ATTRIBUTE_COLUMNS, ints=("flag_id", "decision_id"))
        for a in GROUP_ATTRIBUTES[1:]:
            out[a] = out[a].astype("boolean")
        out["agrees_with_model"] = out["agrees_with_model"].astype(bool)
        return out

    def escalate_overdue(
        self, now: datetime, *, sla_working_days: int, holidays: Iterable[date]
    ) -> list[int]:
        """Move open items past the SLA to supervisors; return their flag_ids."""
        if sla_working_days < 1:
            raise ReviewError(f"sla_working_days must be at least 1; got {sla_working_days}")
        at = _utc(now)
        days_off = tuple(holidays)

        def body(conn: sa.Connection) -> list[int]:
            f = m.flags.c
            rows = conn.execute(
                sa.select(f.flag_id, f.family_id, f.district, f.created_at, f.version).where(
                    f.status == "open"
                )
            ).all()
            if not rows:
                return []
            elapsed = working_days([r.created_at for r in rows], at, days_off)
            late = past_sla(elapsed, sla_working_days)
            overdue = [r for r, is_late in zip(rows, late, strict=True) if is_late]
            done: list[int] = []
            entries: list[AuditEntry] = []
            for r in overdue:
                n = conn.execute(
                    sa.update(m.flags)
                    .where(f.flag_id == r.flag_id, f.version == r.version, f.status == "open")
                    .values(status="escalated", version=r.version + 1, escalated_at=at)
                ).rowcount
                if n == 1:
                    done.append(int(r.flag_id))
                    entries.append(
                        AuditEntry(
                            "system",
                            "escalate",
                            f"flag {r.flag_id}",
                            {
                                "family_id": r.family_id,
                                "district": r.district,
                                "sla_working_days": sla_working_days,
                                "enqueued_at": r.created_at.isoformat(),
                            },
                        )
                    )
            append(conn, entries)
            return done

        return self.session.audited(body)
