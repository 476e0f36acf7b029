"""Follow-ups: what happened after an outreach decision, step by step, and the treatment record.

A decision of ``support_offered`` or ``referred`` opens one follow-up in the decision's own
transaction. Specialists of the district then record contact attempts, services accepted, started
and completed, the family declining, and finally close it with an outcome and a rationale. Every
step is audited; nothing closes a follow-up but a person.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from risk.review import _models as m
from risk.review._audit import AuditEntry, append
from risk.review._decisions import MIN_RATIONALE_LENGTH
from risk.review._errors import DecisionConflict, InvalidDecision, UnknownItem
from risk.review._session import Session, _frame, _utc
from risk.review._users import User

#: Decisions that open a follow-up.
OPENS_FOLLOW_UP: tuple[str, ...] = ("support_offered", "referred")
#: Statuses of a follow-up: under way, escalated to a supervisor (first contact late), closed.
FOLLOW_UP_STATUSES: tuple[str, ...] = ("open", "escalated", "closed")
#: How a contact attempt was made.
CHANNELS: tuple[str, ...] = ("phone", "visit", "letter", "messenger", "other")
#: Stages of a service, in order.
SERVICE_STAGES: tuple[str, ...] = ("accepted", "started", "completed")
#: How a follow-up ends.
OUTCOMES: tuple[str, ...] = ("completed", "declined", "unreachable", "moved", "referred_on")
#: Audit actions of follow-ups and of supervisors' reassignments and notes.
FOLLOW_UP_ACTIONS: tuple[str, ...] = (
    "reassign",
    "note",
    "followup_open",
    "followup_contact",
    "followup_service",
    "followup_declined",
    "followup_close",
    "followup_escalate",
)
MAX_NOTE_LENGTH = 2000


#: Columns of :meth:`ReviewQueue.follow_ups`.
FOLLOW_UP_COLUMNS: tuple[str, ...] = (
    "followup_id",
    "flag_id",
    "decision_id",
    "family_id",
    "district",
    "opened_at",
    "status",
    "version",
    "escalated_at",
    "outreach_started_at",
    "closed_at",
    "closed_by",
    "outcome",
    "rationale",
)
#: Columns of :meth:`ReviewQueue.follow_up_events`.
FOLLOW_UP_EVENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "followup_id",
    "kind",
    "happened_on",
    "recorded_at",
    "user",
    "channel",
    "reached",
    "service_id",
    "stage",
    "note",
)
#: Columns of :meth:`ReviewQueue.treatment_record`: one row per follow-up.
TREATMENT_COLUMNS: tuple[str, ...] = (
    "family_id",
    "district",
    "flag_id",
    "run_id",
    "decision",
    "decided_at",
    "outreach_started_at",
    "n_services_accepted",
    "n_services_started",
    "n_services_completed",
    "services_accepted",
    "services_started",
    "services_completed",
    "declined_at",
    "closed_at",
    "outcome",
)


@dataclass(frozen=True)
class FollowUpStep:
    """What one recorded step returns: the follow-up, its new version and the event's id."""

    followup_id: int
    version: int
    event_id: int | None


def open_follow_up(
    conn: sa.Connection,
    *,
    flag_id: int,
    decision_id: int,
    family_id: str,
    district: str,
    at: datetime,
    actor: str,
) -> AuditEntry:
    """Open the follow-up of an outreach decision inside the decision's transaction."""
    followup_id = conn.execute(
        sa.insert(m.follow_ups)
        .values(
            flag_id=flag_id,
            decision_id=decision_id,
            family_id=family_id,
            district=district,
            opened_at=at,
            status="open",
            version=1,
        )
        .returning(m.follow_ups.c.followup_id)
    ).scalar_one()
    return AuditEntry(
        actor,
        "followup_open",
        f"follow-up {followup_id}",
        {
            "flag_id": flag_id,
            "decision_id": decision_id,
            "family_id": family_id,
            "district": district,
        },
    )


@functools.cache
def _packaged_catalog() -> Any:
    from risk._services import load_catalog

    return load_catalog()


def district_service_ids(catalog: Any, district: str) -> frozenset[str]:
    """Service ids the catalogue offers in ``district`` (none for a district it does not know)."""
    from risk._services import CatalogError

    try:
        frame = catalog.for_district(district)
    except CatalogError:
        return frozenset()
    return frozenset(str(s) for s in frame["service_id"])


def _note(text: object, what: str, *, required: bool = False) -> str:
    note = text.strip() if isinstance(text, str) else ""
    if required and not note:
        raise InvalidDecision(f"{what}: the note must not be empty", reason="note_empty")
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidDecision(
            f"{what}: the note is longer than {MAX_NOTE_LENGTH} characters",
            reason="note_long",
            params={"max": MAX_NOTE_LENGTH},
        )
    return note


class FollowUps:
    """Record the steps of follow-ups, list them, and build the treatment record."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- steps ------------------------------------------------------------------------------

    def _step(
        self,
        followup_id: int,
        user: User | str,
        doing: str,
        action: str,
        event: dict[str, Any] | None,
        details: dict[str, Any],
        *,
        update: dict[str, Any] | None = None,
        started: date | None = None,
        expected_version: int | None = None,
    ) -> FollowUpStep:
        def body(conn: sa.Connection) -> FollowUpStep:
            acting = self.session.acting_user(conn, user, doing)
            c = m.follow_ups.c
            row = conn.execute(
                sa.select(
                    c.followup_id,
                    c.flag_id,
                    c.family_id,
                    c.district,
                    c.opened_at,
                    c.status,
                    c.version,
                    c.outreach_started_at,
                ).where(c.followup_id == int(followup_id))
            ).first()
            if row is None:
                raise UnknownItem(f"follow-up {followup_id}: no such follow-up")
            self.session.check_access(acting, row.district, doing, followup_id=int(followup_id))
            if row.status == "closed":
                raise DecisionConflict(
                    f"follow-up {followup_id}: already closed", reason="follow_up_closed"
                )
            if expected_version is not None and expected_version != row.version:
                raise DecisionConflict(
                    f"follow-up {followup_id}: changed since you read it (version "
                    f"{expected_version}, now {row.version}); reload it",
                    reason="changed",
                )
            values: dict[str, Any] = {"version": row.version + 1, **(update or {})}
            if started is not None and row.outreach_started_at is None:
                if started < row.opened_at.date():
                    raise InvalidDecision(
                        f"{doing}: {started} is before the follow-up opened "
                        f"({row.opened_at.date()})",
                        reason="before_opened",
                    )
                values["outreach_started_at"] = datetime.combine(started, datetime.min.time())
            n = conn.execute(
                sa.update(m.follow_ups)
                .where(c.followup_id == row.followup_id, c.version == row.version)
                .values(**values)
            ).rowcount
            if n != 1:
                raise DecisionConflict(
                    f"follow-up {followup_id}: changed meanwhile; reload it", reason="changed"
                )
            event_id = None
            if event is not None:
                if event["happened_on"] < row.opened_at.date():
                    raise InvalidDecision(
                        f"{doing}: {event['happened_on']} is before the follow-up opened "
                        f"({row.opened_at.date()})",
                        reason="before_opened",
                    )
                event_id = int(
                    conn.execute(
                        sa.insert(m.follow_up_events)
                        .values(
                            followup_id=row.followup_id,
                            recorded_at=_utc(),
                            user_name=acting.name,
                            **event,
                        )
                        .returning(m.follow_up_events.c.event_id)
                    ).scalar_one()
                )
            append(
                conn,
                [
                    AuditEntry(
                        acting.name,
                        action,
                        f"follow-up {row.followup_id}",
                        {
                            "flag_id": int(row.flag_id),
                            "family_id": row.family_id,
                            "district": row.district,
                            **({"event_id": event_id} if event_id is not None else {}),
                            **details,
                        },
                    )
                ],
            )
            return FollowUpStep(int(row.followup_id), row.version + 1, event_id)

        return self.session.audited(body)

    def record_contact(
        self,
        followup_id: int,
        user: User | str,
        *,
        on: date,
        channel: str,
        reached: bool,
        note: str = "",
        today: date | None = None,
    ) -> FollowUpStep:
        """Record one contact attempt (see :meth:`ReviewQueue.record_contact`)."""
        doing = f"contact for follow-up {followup_id}"
        if channel not in CHANNELS:
            raise InvalidDecision(
                f"{doing}: channel must be one of {', '.join(CHANNELS)}; got {channel!r}"
            )
        if not isinstance(reached, bool):
            raise InvalidDecision(f"{doing}: reached must be True or False; got {reached!r}")
        day = _day(on, doing, today)
        text = _note(note, doing)
        return self._step(
            followup_id,
            user,
            doing,
            "followup_contact",
            {
                "kind": "contact",
                "happened_on": day,
                "channel": channel,
                "reached": reached,
                "note": text,
            },
            {"on": day.isoformat(), "channel": channel, "reached": reached},
            started=day if reached else None,
        )

    def record_service(
        self,
        followup_id: int,
        user: User | str,
        service_id: str,
        stage: str,
        *,
        on: date,
        note: str = "",
        catalog: Any = None,
        today: date | None = None,
    ) -> FollowUpStep:
        """Record a service accepted, started or completed (see :meth:`ReviewQueue`)."""
        doing = f"service for follow-up {followup_id}"
        if stage not in SERVICE_STAGES:
            raise InvalidDecision(
                f"{doing}: stage must be one of {', '.join(SERVICE_STAGES)}; got {stage!r}"
            )
        day = _day(on, doing, today)
        text = _note(note, doing)
        sid = str(service_id).strip()
        district = self._district(followup_id)
        offered = district_service_ids(catalog or _packaged_catalog(), district)
        if sid not in offered:
            raise InvalidDecision(
                f"{doing}: service {sid!r} is not in the catalogue of district {district!r}",
                reason="service_not_in_district",
            )
        return self._step(
            followup_id,
            user,
            doing,
            "followup_service",
            {
                "kind": "service",
                "happened_on": day,
                "service_id": sid,
                "stage": stage,
                "note": text,
            },
            {"on": day.isoformat(), "service_id": sid, "stage": stage},
            started=day if stage == "accepted" else None,
        )

    def record_declined(
        self,
        followup_id: int,
        user: User | str,
        *,
        on: date,
        note: str,
        today: date | None = None,
    ) -> FollowUpStep:
        """Record that the family declined further help (the follow-up stays open until closed)."""
        doing = f"family declined, follow-up {followup_id}"
        day = _day(on, doing, today)
        text = _note(note, doing, required=True)
        return self._step(
            followup_id,
            user,
            doing,
            "followup_declined",
            {"kind": "declined", "happened_on": day, "note": text},
            {"on": day.isoformat()},
        )

    def close(
        self,
        followup_id: int,
        user: User | str,
        outcome: str,
        rationale: str,
        *,
        expected_version: int | None = None,
    ) -> FollowUpStep:
        """Close a follow-up with an outcome and a rationale (see :meth:`ReviewQueue`)."""
        doing = f"close follow-up {followup_id}"
        if outcome not in OUTCOMES:
            raise InvalidDecision(
                f"{doing}: outcome must be one of {', '.join(OUTCOMES)}; got {outcome!r}"
            )
        text = rationale.strip() if isinstance(rationale, str) else ""
        if len(text) < MIN_RATIONALE_LENGTH:
            raise InvalidDecision(
                f"{doing}: rationale must be at least {MIN_RATIONALE_LENGTH} characters; "
                f"got {len(text)}",
                reason="rationale_short",
                params={"min": MIN_RATIONALE_LENGTH, "got": len(text)},
            )
        name = user.name if isinstance(user, User) else str(user)
        return self._step(
            followup_id,
            user,
            doing,
            "followup_close",
            None,
            {"outcome": outcome, "rationale_sha256": hashlib.sha256(text.encode()).hexdigest()},
            update={
                "status": "closed",
                "closed_at": _utc(),
                "closed_by": name,
                "outcome": outcome,
                "rationale": text,
            },
            expected_version=expected_version,
        )

    def _district(self, followup_id: int) -> str:
        with self.session.read() as conn:
            district = conn.execute(
                sa.select(m.follow_ups.c.district).where(
                    m.follow_ups.c.followup_id == int(followup_id)
                )
            ).scalar()
        if district is None:
            raise UnknownItem(f"follow-up {followup_id}: no such follow-up")
        return str(district)

    # -- reading ----------------------------------------------------------------------------

    def follow_ups(
        self,
        *,
        flag_id: int | None,
        family_id: str | None,
        status: str | Iterable[str] | None,
        user: User | str | None,
    ) -> pd.DataFrame:
        """List follow-ups (``FOLLOW_UP_COLUMNS``), oldest first, of the user's districts."""
        c = m.follow_ups.c

        def body(conn: sa.Connection) -> list[Any]:
            q = sa.select(*(getattr(c, k) for k in FOLLOW_UP_COLUMNS))
            if user is not None:
                acting = self.session.acting_user(conn, user, "list follow-ups")
                q = q.where(c.district.in_(sorted(acting.districts)))
            if flag_id is not None:
                q = q.where(c.flag_id == int(flag_id))
            if family_id is not None:
                q = q.where(c.family_id == family_id)
            if status is not None:
                q = q.where(c.status.in_([status] if isinstance(status, str) else list(status)))
            return list(conn.execute(q.order_by(c.followup_id)).all())

        rows = self.session.read_as(body, user)
        return _frame(
            rows, FOLLOW_UP_COLUMNS, ints=("followup_id", "flag_id", "decision_id", "version")
        )

    def events(self, followup_id: int, user: User | str | None) -> pd.DataFrame:
        """List a follow-up's steps (``FOLLOW_UP_EVENT_COLUMNS``) in the order recorded."""
        e, c = m.follow_up_events.c, m.follow_ups.c

        def body(conn: sa.Connection) -> list[Any]:
            district = conn.execute(
                sa.select(c.district).where(c.followup_id == int(followup_id))
            ).scalar()
            if district is None:
                raise UnknownItem(f"follow-up {followup_id}: no such follow-up")
            if user is not None:
                acting = self.session.acting_user(conn, user, "list follow-up steps")
                self.session.check_access(
                    acting, district, "list follow-up steps", followup_id=int(followup_id)
                )
            cols = [getattr(e, k) for k in FOLLOW_UP_EVENT_COLUMNS if k != "user"]
            cols.insert(5, e.user_name)
            return list(
                conn.execute(
                    sa.select(*cols).where(e.followup_id == int(followup_id)).order_by(e.event_id)
                ).all()
            )

        rows = self.session.read_as(body, user)
        return _frame(rows, FOLLOW_UP_EVENT_COLUMNS, ints=("event_id", "followup_id"))

    def treatment_record(self, since: datetime | None) -> pd.DataFrame:
        """Per follow-up: when outreach started and what was delivered (back-office read)."""
        c, e, f, d = m.follow_ups.c, m.follow_up_events.c, m.flags.c, m.decisions.c
        with self.session.read() as conn:
            q = (
                sa.select(
                    c.followup_id,
                    c.family_id,
                    c.district,
                    c.flag_id,
                    f.run_id,
                    d.decision,
                    d.decided_at,
                    c.outreach_started_at,
                    c.closed_at,
                    c.outcome,
                )
                .join_from(m.follow_ups, m.flags, c.flag_id == f.flag_id)
                .join(m.decisions, c.decision_id == d.decision_id)
                .order_by(c.followup_id)
            )
            if since is not None:
                q = q.where(d.decided_at >= _utc(since))
            heads = conn.execute(q).all()
            steps = conn.execute(
                sa.select(e.followup_id, e.kind, e.happened_on, e.service_id, e.stage).order_by(
                    e.event_id
                )
            ).all()
        services: dict[int, dict[str, list[str]]] = {}
        declined: dict[int, date] = {}
        for s in steps:
            fid = int(s.followup_id)
            if s.kind == "service":
                ids = services.setdefault(fid, {k: [] for k in SERVICE_STAGES})[s.stage]
                if s.service_id not in ids:
                    ids.append(s.service_id)
            elif s.kind == "declined":
                declined.setdefault(fid, s.happened_on)
        rows = []
        for h in heads:
            got = services.get(int(h.followup_id), {k: [] for k in SERVICE_STAGES})
            rows.append(
                (
                    h.family_id,
                    h.district,
                    int(h.flag_id),
                    h.run_id,
                    h.decision,
                    h.decided_at,
                    h.outreach_started_at,
                    *(len(got[k]) for k in SERVICE_STAGES),
                    *(tuple(got[k]) for k in SERVICE_STAGES),
                    declined.get(int(h.followup_id)),
                    h.closed_at,
                    h.outcome,
                )
            )
        return _frame(
            rows,
            TREATMENT_COLUMNS,
            ints=("flag_id", "n_services_accepted", "n_services_started", "n_services_completed"),
        )


def _day(on: object, doing: str, today: date | None) -> date:
    if isinstance(on, datetime):
        on = on.date()
    if not isinstance(on, date):
        raise InvalidDecision(
            f"{doing}: the date must be a date; got {on!r}", reason="date_invalid"
        )
    limit = today or _utc().date()
    if on > limit:
        raise InvalidDecision(f"{doing}: {on} is in the future", reason="date_future")
    return on
