"""Supervision and the SLA: supervisors' view of decided items, and escalating overdue ones."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from risk._payload import GROUP_ATTRIBUTES
from risk.review import _models as m
from risk.review._audit import AuditEntry, append
from risk.review._calendar import WorkingCalendar, as_calendar
from risk.review._errors import (
    AccessDenied,
    DecisionConflict,
    InvalidUser,
    ReviewError,
    UnknownItem,
)
from risk.review._followup import _note
from risk.review._policy import AWAITING, SUPERVISOR_ROLES, past_sla, working_days
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


@dataclass(frozen=True)
class Escalated:
    """One item or follow-up the sweep escalated to the district's supervisor.

    Attributes
    ----------
    kind : {"item", "follow_up"}
        A queue item awaiting a decision, or a follow-up whose first contact is late.
    flag_id : int
        The queue item (of the follow-up).
    family_id, district : str
        Whose, and where.
    days_overdue : int
        Working days past the deadline.
    """

    kind: str
    flag_id: int
    family_id: str
    district: str
    days_overdue: int


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
                        f"{doing}: user {acting.name!r} ({acting.role}) is not a supervisor",
                        reason="supervisor",
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
        self,
        now: datetime,
        *,
        sla_working_days: int,
        holidays: Iterable[date] | WorkingCalendar,
    ) -> list[int]:
        """Move open items past the SLA to supervisors; return their flag_ids."""
        done = self.sweep(
            now,
            sla_working_days=sla_working_days,
            first_contact_working_days=None,
            calendar=as_calendar(holidays),
        )
        return [e.flag_id for e in done if e.kind == "item"]

    def sweep(
        self,
        now: datetime,
        *,
        sla_working_days: int,
        first_contact_working_days: int | None,
        calendar: WorkingCalendar,
    ) -> list[Escalated]:
        """Escalate overdue items (and follow-ups, unless None) in one transaction; closes nothing.

        Each row is updated only if its version is still the one read, so two sweeps running
        at once escalate each row once: the second sees it escalated already.
        """
        for name, value in (
            ("sla_working_days", sla_working_days),
            ("first_contact_working_days", first_contact_working_days),
        ):
            if value is not None and value < 1:
                raise ReviewError(f"{name} must be at least 1; got {value}")
        at = _utc(now)

        def body(conn: sa.Connection) -> list[Escalated]:
            done = self._escalate_items(conn, at, sla_working_days, calendar)
            if first_contact_working_days is not None:
                done += self._escalate_follow_ups(conn, at, first_contact_working_days, calendar)
            return done

        return self.session.audited(body)

    def _escalate_items(
        self, conn: sa.Connection, at: datetime, sla: int, calendar: WorkingCalendar
    ) -> list[Escalated]:
        f = m.flags.c
        rows = conn.execute(
            sa.select(f.flag_id, f.family_id, f.district, f.created_at, f.version).where(
                f.status == "open"
            )
        ).all()
        if not rows:
            return []
        elapsed = working_days([r.created_at for r in rows], at, calendar)
        done: list[Escalated] = []
        entries: list[AuditEntry] = []
        for r, days, late in zip(rows, elapsed, past_sla(elapsed, sla), strict=True):
            if not late:
                continue
            n = conn.execute(
                sa.update(m.flags)
                .where(f.flag_id == r.flag_id, f.version == r.version, f.status == "open")
                .values(status="escalated", version=r.version + 1, escalated_at=at)
            ).rowcount
            if n == 1:
                done.append(
                    Escalated("item", int(r.flag_id), r.family_id, r.district, int(days) - sla)
                )
                entries.append(
                    AuditEntry(
                        "system",
                        "escalate",
                        f"flag {r.flag_id}",
                        {
                            "family_id": r.family_id,
                            "district": r.district,
                            "sla_working_days": sla,
                            "enqueued_at": r.created_at.isoformat(),
                            "calendar": calendar.name,
                        },
                    )
                )
        append(conn, entries)
        return done

    def _escalate_follow_ups(
        self, conn: sa.Connection, at: datetime, due: int, calendar: WorkingCalendar
    ) -> list[Escalated]:
        c = m.follow_ups.c
        rows = conn.execute(
            sa.select(
                c.followup_id, c.flag_id, c.family_id, c.district, c.opened_at, c.version
            ).where(c.status == "open", c.outreach_started_at.is_(None))
        ).all()
        if not rows:
            return []
        elapsed = working_days([r.opened_at for r in rows], at, calendar)
        done: list[Escalated] = []
        entries: list[AuditEntry] = []
        for r, days, late in zip(rows, elapsed, past_sla(elapsed, due), strict=True):
            if not late:
                continue
            n = conn.execute(
                sa.update(m.follow_ups)
                .where(
                    c.followup_id == r.followup_id,
                    c.version == r.version,
                    c.status == "open",
                    c.outreach_started_at.is_(None),
                )
                .values(status="escalated", version=r.version + 1, escalated_at=at)
            ).rowcount
            if n == 1:
                done.append(
                    Escalated("follow_up", int(r.flag_id), r.family_id, r.district, int(days) - due)
                )
                entries.append(
                    AuditEntry(
                        "system",
                        "followup_escalate",
                        f"follow-up {r.followup_id}",
                        {
                            "flag_id": int(r.flag_id),
                            "family_id": r.family_id,
                            "district": r.district,
                            "first_contact_working_days": due,
                            "opened_at": r.opened_at.isoformat(),
                            "calendar": calendar.name,
                        },
                    )
                )
        append(conn, entries)
        return done

    # -- acting on overdue items --------------------------------------------------------------

    def _supervisor_of(
        self, conn: sa.Connection, user: User | str, flag_id: int, doing: str
    ) -> tuple[User, Any]:
        acting = self.session.acting_user(conn, user, doing)
        if acting.role not in SUPERVISOR_ROLES:
            raise _Refusal(
                AccessDenied(
                    f"{doing}: user {acting.name!r} ({acting.role}) is not a supervisor",
                    reason="supervisor",
                ),
                AuditEntry(acting.name, "access_denied", doing, {"reason": "role"}),
            )
        f = m.flags.c
        row = conn.execute(
            sa.select(f.flag_id, f.family_id, f.district, f.status, f.version, f.assigned_to).where(
                f.flag_id == int(flag_id)
            )
        ).first()
        if row is None:
            raise UnknownItem(f"flag {flag_id}: no such queue item")
        self.session.check_access(acting, row.district, doing, flag_id=int(flag_id))
        return acting, row

    def reassign(
        self, flag_id: int, user: User | str, to: str, *, expected_version: int | None
    ) -> int:
        """Hand an item awaiting a decision to a specialist of its district; return the version."""
        doing = f"reassign flag {flag_id}"

        def body(conn: sa.Connection) -> int:
            acting, row = self._supervisor_of(conn, user, flag_id, doing)
            if row.status not in AWAITING:
                raise DecisionConflict(f"flag {flag_id}: already decided; nothing to reassign")
            if expected_version is not None and expected_version != row.version:
                raise DecisionConflict(
                    f"flag {flag_id}: changed since you read it (version {expected_version}, "
                    f"now {row.version}); reload it"
                )
            target = self.session.load_user(conn, str(to))
            if target is None:
                raise InvalidUser(f"{doing}: no user {to!r}")
            if target.role != "specialist" or row.district not in target.districts:
                raise InvalidUser(
                    f"{doing}: {to!r} ({target.role}) is not a specialist of district "
                    f"{row.district!r}"
                )
            f = m.flags.c
            n = conn.execute(
                sa.update(m.flags)
                .where(f.flag_id == row.flag_id, f.version == row.version)
                .values(assigned_to=target.name, version=row.version + 1)
            ).rowcount
            if n != 1:
                raise DecisionConflict(f"flag {flag_id}: changed meanwhile; reload it")
            append(
                conn,
                [
                    AuditEntry(
                        acting.name,
                        "reassign",
                        f"flag {flag_id}",
                        {
                            "family_id": row.family_id,
                            "district": row.district,
                            "from": row.assigned_to,
                            "to": target.name,
                            "status": row.status,
                        },
                    )
                ],
            )
            return int(row.version + 1)

        return self.session.audited(body)

    def add_note(self, flag_id: int, user: User | str, text: str) -> int:
        """Add a supervisor's note to an item; return the note's id."""
        doing = f"note on flag {flag_id}"
        body_text = _note(text, doing, required=True)

        def body(conn: sa.Connection) -> int:
            acting, row = self._supervisor_of(conn, user, flag_id, doing)
            note_id = conn.execute(
                sa.insert(m.flag_notes)
                .values(flag_id=int(flag_id), user_name=acting.name, at=_utc(), text=body_text)
                .returning(m.flag_notes.c.note_id)
            ).scalar_one()
            append(
                conn,
                [
                    AuditEntry(
                        acting.name,
                        "note",
                        f"flag {flag_id}",
                        {
                            "note_id": int(note_id),
                            "family_id": row.family_id,
                            "district": row.district,
                            "text": body_text,
                        },
                    )
                ],
            )
            return int(note_id)

        return self.session.audited(body)

    def notes(self, flag_id: int, user: User | str) -> pd.DataFrame:
        """List the notes on an item (note_id, user, at, text), oldest first."""
        n, f = m.flag_notes.c, m.flags.c
        doing = f"notes of flag {flag_id}"

        def body(conn: sa.Connection) -> list[Any]:
            acting = self.session.acting_user(conn, user, doing)
            district = conn.execute(sa.select(f.district).where(f.flag_id == int(flag_id))).scalar()
            if district is None:
                raise UnknownItem(f"flag {flag_id}: no such queue item")
            self.session.check_access(acting, district, doing, flag_id=int(flag_id))
            return list(
                conn.execute(
                    sa.select(n.note_id, n.user_name, n.at, n.text, f.assigned_to)
                    .join_from(m.flag_notes, m.flags, n.flag_id == f.flag_id)
                    .where(n.flag_id == int(flag_id))
                    .order_by(n.note_id)
                ).all()
            )

        rows = self.session.read_checked(body)
        return _frame([r[:4] for r in rows], ("note_id", "user", "at", "text"), ints=("note_id",))

    def assignees(self, flag_ids: Iterable[int]) -> dict[int, str]:
        """Who each of these items is assigned to (items without an assignee left out)."""
        ids = [int(i) for i in flag_ids]
        if not ids:
            return {}
        f = m.flags.c
        with self.session.read() as conn:
            rows = conn.execute(
                sa.select(f.flag_id, f.assigned_to).where(
                    f.flag_id.in_(ids), f.assigned_to.is_not(None)
                )
            ).all()
        return {int(r.flag_id): str(r.assigned_to) for r in rows}
