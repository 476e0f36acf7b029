"""Deciding: a person's decision closes one item; decisions are listed for the user's districts."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa

from risk.review import _models as m
from risk.review._audit import AuditEntry, append
from risk.review._decisions import (
    Decision,
    check_decision,
    check_services_available,
    district_service_ids,
)
from risk.review._errors import DecisionConflict, InvalidDecision, UnknownItem
from risk.review._followup import OPENS_FOLLOW_UP, open_follow_up
from risk.review._policy import AWAITING
from risk.review._session import Session, _frame, _utc
from risk.review._users import User
from risk.review._views import viewed

if TYPE_CHECKING:
    from risk import ServiceCatalog

DECISION_COLUMNS: tuple[str, ...] = (
    "decision_id",
    "flag_id",
    "run_id",
    "family_id",
    "district",
    "user",
    "decided_at",
    "decision",
    "rationale",
    "services_offered",
    "agrees_with_model",
    "item_version",
)


class Deciding:
    """Record decisions (the only way an item is decided) and list them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record_decision(
        self,
        flag_id: int,
        user: User | str,
        decision: str,
        rationale: str,
        services_offered: Iterable[str],
        *,
        agrees_with_model: bool,
        expected_version: int | None,
        session: str | None = None,
        catalog: ServiceCatalog | None = None,
    ) -> Decision:
        """Record one decision on one item (see :meth:`ReviewQueue.record_decision`)."""
        text, services = check_decision(
            flag_id, decision, rationale, services_offered, agrees_with_model
        )

        def checked(conn: sa.Connection, acting: User, row: Any) -> None:
            # What a decision through the app needs beyond access: services of the family's
            # district, and a look at the card, in this session, at the current version.
            if catalog is not None and services:
                check_services_available(
                    flag_id, row.district, services, district_service_ids(catalog, row.district)
                )
            if session is None:
                return
            if expected_version is None:
                raise InvalidDecision(
                    f"flag {flag_id}: open the family card before deciding (no version of it "
                    "was opened in this session)"
                )
            if expected_version == row.version and not viewed(
                conn, acting.name, int(flag_id), row.family_id, session, row.version
            ):
                raise InvalidDecision(
                    f"flag {flag_id}: open the family card before deciding (the store has no "
                    f"view of version {row.version} by {acting.name} in this session)"
                )

        doing = f"decide flag {flag_id}"

        def body(conn: sa.Connection) -> Decision:
            acting = self.session.acting_user(conn, user, doing)
            f = m.flags.c
            row = conn.execute(
                sa.select(f.family_id, f.district, f.status, f.version).where(
                    f.flag_id == int(flag_id)
                )
            ).first()
            if row is None:
                raise UnknownItem(f"flag {flag_id}: no such queue item", reason="no_item")
            self.session.check_access(acting, row.district, doing, flag_id=int(flag_id))
            if row.status not in AWAITING:
                raise DecisionConflict(
                    f"flag {flag_id}: already decided (version {row.version})",
                    reason="already_decided",
                )
            checked(conn, acting, row)
            if expected_version is not None and expected_version != row.version:
                raise DecisionConflict(
                    f"flag {flag_id}: changed since you read it (version {expected_version}, "
                    f"now {row.version}, status {row.status}); reload it",
                    reason="changed",
                )
            now = _utc()
            updated = conn.execute(
                sa.update(m.flags)
                .where(
                    f.flag_id == int(flag_id),
                    f.version == row.version,
                    f.status.in_(AWAITING),
                )
                .values(status="decided", version=row.version + 1, decided_at=now)
            ).rowcount
            if updated != 1:
                raise DecisionConflict(
                    f"flag {flag_id}: another decision was recorded first", reason="decided_first"
                )
            decision_id = conn.execute(
                sa.insert(m.decisions)
                .values(
                    flag_id=int(flag_id),
                    user_name=acting.name,
                    decided_at=now,
                    decision=decision,
                    rationale=text,
                    services_offered_json=json.dumps(list(services), ensure_ascii=False),
                    agrees_with_model=agrees_with_model,
                    item_version=row.version + 1,
                )
                .returning(m.decisions.c.decision_id)
            ).scalar_one()
            # An outreach decision opens its follow-up in the same transaction.
            follow_up = (
                [
                    open_follow_up(
                        conn,
                        flag_id=int(flag_id),
                        decision_id=int(decision_id),
                        family_id=row.family_id,
                        district=row.district,
                        at=now,
                        actor=acting.name,
                    )
                ]
                if decision in OPENS_FOLLOW_UP
                else []
            )
            append(
                conn,
                [
                    AuditEntry(
                        acting.name,
                        "decision",
                        f"flag {flag_id}",
                        {
                            "decision_id": int(decision_id),
                            "family_id": row.family_id,
                            "district": row.district,
                            "decision": decision,
                            "services_offered": list(services),
                            "agrees_with_model": agrees_with_model,
                            "was_status": row.status,
                            "rationale_sha256": hashlib.sha256(text.encode()).hexdigest(),
                        },
                    ),
                    *follow_up,
                ],
            )
            return Decision(
                decision_id=int(decision_id),
                flag_id=int(flag_id),
                user=acting.name,
                decided_at=now,
                decision=decision,
                rationale=text,
                services_offered=services,
                agrees_with_model=agrees_with_model,
                item_version=row.version + 1,
            )

        return self.session.audited(body)

    def decisions(
        self,
        *,
        flag_id: int | None,
        run_id: str | None,
        decided_by: str | None,
        user: User | str | None,
        family_id: str | None = None,
    ) -> pd.DataFrame:
        """List recorded decisions (``DECISION_COLUMNS``), oldest first."""
        d, f = m.decisions.c, m.flags.c

        def body(conn: sa.Connection) -> list[Any]:
            q = sa.select(
                d.decision_id,
                d.flag_id,
                f.run_id,
                f.family_id,
                f.district,
                d.user_name,
                d.decided_at,
                d.decision,
                d.rationale,
                d.services_offered_json,
                d.agrees_with_model,
                d.item_version,
            ).join_from(m.decisions, m.flags, d.flag_id == f.flag_id)
            if user is not None:
                acting = self.session.acting_user(conn, user, "list decisions")
                q = q.where(f.district.in_(sorted(acting.districts)))
            if flag_id is not None:
                q = q.where(d.flag_id == int(flag_id))
            if run_id is not None:
                q = q.where(f.run_id == run_id)
            if decided_by is not None:
                q = q.where(d.user_name == decided_by)
            if family_id is not None:
                q = q.where(f.family_id == str(family_id))
            return list(conn.execute(q.order_by(d.decision_id)).all())

        rows = self.session.read_checked(body)
        rows = [(*r[:9], json.loads(r[9]), bool(r[10]), r[11]) for r in rows]
        return _frame(rows, DECISION_COLUMNS, ints=("decision_id", "flag_id", "item_version"))
