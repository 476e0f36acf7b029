"""The review queue: every flag of a run in front of a person, every action audited."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd
import sqlalchemy as sa

from risk._flags import TIERS
from risk.review import _models as m
from risk.review._accounts import _Accounts
from risk.review._audit import AuditEntry, VerifyResult, append
from risk.review._decisions import Decision, check_decision, check_dispute_reason
from risk.review._errors import (
    AccessDenied,
    DecisionConflict,
    ReviewError,
    StoreUnavailable,
    UnknownItem,
)
from risk.review._screening import GROUP_ATTRIBUTES, ScreeningLike, prepare_run
from risk.review._session import _frame, _Refusal, _utc
from risk.review._store import resolve_url
from risk.review._users import SUPERVISOR_ROLES, User

T = TypeVar("T")

#: Rows per INSERT statement when enqueueing a run.
ENQUEUE_CHUNK = 2000
#: Working days after which an open item escalates to a supervisor.
DEFAULT_SLA_WORKING_DAYS = 10

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
STATUSES: tuple[str, ...] = ("open", "escalated", "decided")
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
#: Orders of :meth:`ReviewQueue.items`: ``queue`` (tier as in ``risk``'s TIERS, then score
#: high to low), ``score`` (high to low) or ``age`` (longest waiting first); ties by flag_id.
ORDERS: tuple[str, ...] = ("queue", "score", "age")
Order = Literal["queue", "score", "age"]


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


def _strings(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)


def _tier_rank() -> sa.Case[Any]:
    """Position of the item's tier in ``risk``'s TIERS (unknown tiers last)."""
    return sa.case({t: i for i, t in enumerate(TIERS)}, value=m.flags.c.tier, else_=len(TIERS))


@dataclass(frozen=True)
class EnqueueResult:
    """What :meth:`ReviewQueue.enqueue` did.

    Attributes
    ----------
    run_id : str
        The run.
    n_flags : int
        Queue items of the run (equals the run's flags).
    created : bool
        False when the run was already enqueued and nothing changed.
    """

    run_id: str
    n_flags: int
    created: bool


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


class ReviewQueue(_Accounts):
    """The review queue and its SQL store (SQLite file by default, PostgreSQL by URL).

    Every flag of a scoring run becomes one queue item; an item leaves the queue only through a
    decision that a user with access to the family's district records with a rationale. Every
    enqueued run, login, view, decision, dispute, escalation and refusal is appended to a
    hash-chained audit log in the same transaction as the action.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy URL. None: ``RISK_STORE_URL``, else ``sqlite:///risk-review.db``.
    connect_timeout : float
        Seconds to wait for a PostgreSQL connection before :class:`StoreUnavailable`.
    lock_timeout : float
        Seconds a write may wait for another writer (SQLite busy timeout, PostgreSQL
        ``lock_timeout``) before :class:`StoreUnavailable`.
    login_policy : LoginPolicy
        How repeated failed logins are slowed down.

    Examples
    --------
    >>> q = ReviewQueue("sqlite://")
    >>> q.add_user("anna", "correct horse", "specialist", ["north"]).districts
    frozenset({'north'})
    >>> q.authenticate("anna", "correct horse").name
    'anna'
    >>> class Run:  # anything with ``scores`` and ``flag_payloads()`` will do
    ...     scores = pd.DataFrame({
    ...         "family_id": ["f1", "f2"], "district": ["north", "north"], "score": [0.4, 0.1],
    ...         "log_odds": [-0.41, -2.2], "tier": ["priority", "universal"],
    ...         "flagged": [True, False], "rank_in_district": [1, 2], "model_version": "m@1",
    ...         "as_of": "2025-06-30", "advisory": "Advisory only."})
    ...     def flag_payloads(self):
    ...         return {"f1": {"needs": ["material"], "services": ["svc-1"]}}
    >>> q.enqueue(Run(), "run-1")
    EnqueueResult(run_id='run-1', n_flags=1, created=True)
    >>> flag = int(q.items(user="anna")["flag_id"].iloc[0])
    >>> q.item(flag, "anna").payload
    {'needs': ['material'], 'services': ['svc-1']}
    >>> q.record_decision(flag, "anna", "support_offered", "Offered help with school costs.",
    ...                   ["svc-1"], agrees_with_model=True).item_version
    2
    >>> q.audit_log()["action"].tolist()
    ['user_added', 'login', 'enqueue_run', 'view_family', 'decision']
    >>> q.verify_audit_log().ok
    True
    """

    # -- runs -------------------------------------------------------------------------------

    def enqueue(
        self, screening: ScreeningLike, run_id: str, *, actor: str = "scoring"
    ) -> EnqueueResult:
        """Put every flag of a scoring run in the queue, in one transaction, once.

        Only rows with ``flagged == True`` become items. Repeating the call with the same
        ``run_id`` changes nothing; a run killed midway leaves nothing behind, so running it
        again completes it exactly once.

        Parameters
        ----------
        screening : ScreeningLike
            The scored run (``scores`` and ``flag_payloads()``).
        run_id : str
            Identifier of the run, unique in the store.
        actor : str
            Who enqueues, for the audit log.

        Returns
        -------
        EnqueueResult

        Raises
        ------
        ReviewError
            The screening is malformed, or ``run_id`` was already enqueued with other flags.
        """
        prepared = prepare_run(screening, run_id)
        wanted = {r["family_id"] for r in prepared.flags}

        def body(conn: sa.Connection) -> EnqueueResult:
            existing = conn.execute(
                sa.select(m.runs.c.n_flags).where(m.runs.c.run_id == run_id)
            ).first()
            if existing is not None:
                stored = set(
                    conn.execute(
                        sa.select(m.flags.c.family_id).where(m.flags.c.run_id == run_id)
                    ).scalars()
                )
                if stored != wanted:
                    raise ReviewError(
                        f"run {run_id} was already enqueued with {len(stored)} flags; this "
                        f"screening has {len(wanted)} flags for other families. Use a new run_id."
                    )
                return EnqueueResult(run_id, len(stored), created=False)
            now = _utc()
            conn.execute(
                sa.insert(m.runs).values(
                    run_id=run_id,
                    model_version=prepared.model_version,
                    as_of=prepared.as_of,
                    n_scored=prepared.n_scored,
                    n_flags=len(prepared.flags),
                    tier_counts_json=json.dumps(dict(prepared.tier_counts), sort_keys=True),
                    created_at=now,
                )
            )
            common = {"run_id": run_id, "status": "open", "version": 1, "created_at": now}
            rows = [
                {k: v for k, v in r.items() if k != "payload_json"} | common for r in prepared.flags
            ]
            for start in range(0, len(rows), ENQUEUE_CHUNK):
                conn.execute(sa.insert(m.flags), rows[start : start + ENQUEUE_CHUNK])
            ids = dict(
                conn.execute(
                    sa.select(m.flags.c.family_id, m.flags.c.flag_id).where(
                        m.flags.c.run_id == run_id
                    )
                ).all()
            )
            payloads = [
                {"flag_id": ids[r["family_id"]], "payload_json": r["payload_json"]}
                for r in prepared.flags
            ]
            for start in range(0, len(payloads), ENQUEUE_CHUNK):
                conn.execute(sa.insert(m.flag_payloads), payloads[start : start + ENQUEUE_CHUNK])
            append(
                conn,
                [
                    AuditEntry(
                        actor,
                        "enqueue_run",
                        f"run {run_id}",
                        {
                            "run_id": run_id,
                            "n_flags": len(rows),
                            "n_scored": prepared.n_scored,
                            "model_version": prepared.model_version,
                            "as_of": prepared.as_of,
                            "tier_counts": dict(prepared.tier_counts),
                        },
                    )
                ],
            )
            return EnqueueResult(run_id, len(rows), created=True)

        return self._audited(body)

    def runs(self) -> pd.DataFrame:
        """List enqueued runs: run_id, model_version, as_of, n_scored, n_flags, tier_counts, ...."""
        with self._read() as conn:
            rows = conn.execute(sa.select(m.runs).order_by(m.runs.c.created_at)).mappings().all()
        out = pd.DataFrame(
            [{**r, "tier_counts": json.loads(r["tier_counts_json"])} for r in rows],
            columns=[*(c.name for c in m.runs.columns), "tier_counts"],
        )
        return out.drop(columns="tier_counts_json")

    # -- items ------------------------------------------------------------------------------

    def _item_select(self) -> sa.Select[Any]:
        f = m.flags.c
        return sa.select(
            *(getattr(f, c) for c in ITEM_COLUMNS[:13]), m.runs.c.model_version, m.runs.c.as_of
        ).join_from(m.flags, m.runs, m.flags.c.run_id == m.runs.c.run_id)

    def items(
        self,
        *,
        run_id: str | None = None,
        status: str | Iterable[str] | None = None,
        districts: Iterable[str] | None = None,
        tier: str | Iterable[str] | None = None,
        created_before: datetime | None = None,
        user: User | str | None = None,
        order: Order = "queue",
        limit: int | None = None,
        offset: int = 0,
    ) -> pd.DataFrame:
        """List queue items, a page at a time if asked (payloads are read one by one: :meth:`item`).

        Parameters
        ----------
        run_id : str, optional
            Only this run.
        status : str or iterable of str, optional
            ``open``, ``escalated`` and/or ``decided``.
        districts : iterable of str, optional
            Only these districts.
        tier : str or iterable of str, optional
            Only these tiers.
        created_before : datetime, optional
            Only items enqueued before this time (naive UTC, or aware).
        user : User or str, optional
            The acting user: only their districts are listed, and asking for other districts is
            refused. The review app always passes it; None is for back-office tools.
        order : {"queue", "score", "age"}
            ``queue``: tier (``priority`` first), then score high to low; ``score``: score high
            to low; ``age``: longest waiting first. Ties by flag_id.
        limit : int, optional
            At most this many items (None: all).
        offset : int
            Skip this many items first (with ``order``, a stable page).

        Returns
        -------
        pandas.DataFrame
            Columns ``ITEM_COLUMNS`` (flag_id, run_id, family_id, district, status, score, ...).

        Examples
        --------
        >>> q = ReviewQueue("sqlite://")
        >>> q.items(status="open", order="queue", limit=25, offset=50).empty
        True
        """
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
            q = self._where(conn, self._item_select(), where, user, "list queue")
            q = q.order_by(*by).offset(int(offset))
            if limit is not None:
                q = q.limit(int(limit))
            return list(conn.execute(q).all())

        rows = self._run_read(body, user)
        return _frame(rows, ITEM_COLUMNS, ints=("flag_id", "rank_in_district", "version"))

    def count_items(
        self,
        *,
        run_id: str | None = None,
        status: str | Iterable[str] | None = None,
        districts: Iterable[str] | None = None,
        tier: str | Iterable[str] | None = None,
        created_before: datetime | None = None,
        user: User | str | None = None,
    ) -> int:
        """Count the items :meth:`items` would list with the same filters (one SQL count).

        Examples
        --------
        >>> ReviewQueue("sqlite://").count_items(status=["open", "escalated"])
        0
        """
        where = _Filters.of(run_id, status, districts, tier, created_before)

        def body(conn: sa.Connection) -> int:
            q = sa.select(sa.func.count()).select_from(m.flags)
            return int(conn.execute(self._where(conn, q, where, user, "list queue")).scalar_one())

        return self._run_read(body, user)

    def _run_read(self, body: Callable[[sa.Connection], T], user: User | str | None) -> T:
        if user is None:
            with self._read() as conn:
                return body(conn)
        return self._read_checked(body)

    def _where(
        self,
        conn: sa.Connection,
        q: sa.Select[Any],
        where: _Filters,
        user: User | str | None,
        doing: str,
    ) -> sa.Select[Any]:
        """Apply the filters, and the acting user's districts (asking for others is refused)."""
        allowed = where.districts
        if user is not None:
            acting = self._acting_user(conn, user, doing)
            if allowed is not None:
                for d in allowed:
                    self._check_access(acting, d, doing)
            else:
                allowed = tuple(sorted(acting.districts))
        f = m.flags.c
        if where.run_id is not None:
            q = q.where(f.run_id == where.run_id)
        if where.statuses is not None:
            q = q.where(f.status.in_(where.statuses))
        if allowed is not None:
            q = q.where(f.district.in_(allowed))
        if where.tiers is not None:
            q = q.where(f.tier.in_(where.tiers))
        if where.created_before is not None:
            q = q.where(f.created_at < where.created_before)
        return q

    def item(self, flag_id: int, user: User | str) -> ReviewItem:
        """One item with its payload, for ``user`` (access checked, the view audited).

        Raises
        ------
        UnknownItem
            No such flag.
        AccessDenied, AuthenticationFailed
            The user may not see it (the refusal is audited).
        """

        def body(conn: sa.Connection) -> ReviewItem:
            acting = self._acting_user(conn, user, f"view flag {flag_id}")
            row = conn.execute(
                self._item_select()
                .add_columns(m.flag_payloads.c.payload_json)
                .join(m.flag_payloads, m.flag_payloads.c.flag_id == m.flags.c.flag_id)
                .where(m.flags.c.flag_id == int(flag_id))
            ).first()
            if row is None:
                raise UnknownItem(f"flag {flag_id}: no such queue item")
            self._check_access(acting, row.district, f"view flag {flag_id}", flag_id=int(flag_id))
            append(
                conn,
                [
                    AuditEntry(
                        acting.name,
                        "view_family",
                        f"family {row.family_id}",
                        {"flag_id": int(flag_id), "district": row.district},
                    )
                ],
            )
            values = {c: getattr(row, c) for c in ITEM_COLUMNS}
            return ReviewItem(**values, payload=json.loads(row.payload_json))

        return self._audited(body)

    # -- decisions --------------------------------------------------------------------------

    def record_decision(
        self,
        flag_id: int,
        user: User | str,
        decision: str,
        rationale: str,
        services_offered: Iterable[str] = (),
        *,
        agrees_with_model: bool,
        expected_version: int | None = None,
    ) -> Decision:
        """Record a person's decision on a queue item; the only way an item is decided.

        Parameters
        ----------
        flag_id : int
            The item.
        user : User or str
            The deciding user; must exist and have access to the family's district.
        decision : str
            One of ``DECISIONS``.
        rationale : str
            Why, at least 20 characters.
        services_offered : iterable of str
            Services offered; required with (and only with) ``support_offered``.
        agrees_with_model : bool
            Whether the specialist agrees that the family needed a closer look.
        expected_version : int, optional
            The item version the user saw; if the item changed since, :class:`DecisionConflict`.

        Returns
        -------
        Decision

        Raises
        ------
        InvalidDecision
            Bad code, short rationale, services missing or misplaced.
        DecisionConflict
            Another decision won, or the item changed since ``expected_version``.
        AccessDenied, AuthenticationFailed, UnknownItem
            As named.
        """
        text, services = check_decision(
            flag_id, decision, rationale, services_offered, agrees_with_model
        )
        doing = f"decide flag {flag_id}"

        def body(conn: sa.Connection) -> Decision:
            acting = self._acting_user(conn, user, doing)
            f = m.flags.c
            row = conn.execute(
                sa.select(f.family_id, f.district, f.status, f.version).where(
                    f.flag_id == int(flag_id)
                )
            ).first()
            if row is None:
                raise UnknownItem(f"flag {flag_id}: no such queue item")
            self._check_access(acting, row.district, doing, flag_id=int(flag_id))
            if row.status == "decided":
                raise DecisionConflict(f"flag {flag_id}: already decided (version {row.version})")
            if expected_version is not None and expected_version != row.version:
                raise DecisionConflict(
                    f"flag {flag_id}: changed since you read it (version {expected_version}, "
                    f"now {row.version}, status {row.status}); reload it"
                )
            now = _utc()
            updated = conn.execute(
                sa.update(m.flags)
                .where(
                    f.flag_id == int(flag_id),
                    f.version == row.version,
                    f.status.in_(("open", "escalated")),
                )
                .values(status="decided", version=row.version + 1, decided_at=now)
            ).rowcount
            if updated != 1:
                raise DecisionConflict(f"flag {flag_id}: another decision was recorded first")
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
                    )
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

        return self._audited(body)

    def decisions(
        self,
        *,
        flag_id: int | None = None,
        run_id: str | None = None,
        decided_by: str | None = None,
        user: User | str | None = None,
    ) -> pd.DataFrame:
        """List recorded decisions (``DECISION_COLUMNS``), oldest first.

        ``user`` is the acting user, as in :meth:`items`: only their districts are listed.
        """
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
                acting = self._acting_user(conn, user, "list decisions")
                q = q.where(f.district.in_(sorted(acting.districts)))
            if flag_id is not None:
                q = q.where(d.flag_id == int(flag_id))
            if run_id is not None:
                q = q.where(f.run_id == run_id)
            if decided_by is not None:
                q = q.where(d.user_name == decided_by)
            return list(conn.execute(q.order_by(d.decision_id)).all())

        rows = self._read_checked(body)
        rows = [(*r[:9], json.loads(r[9]), bool(r[10]), r[11]) for r in rows]
        return _frame(rows, DECISION_COLUMNS, ints=("decision_id", "flag_id", "item_version"))

    def decided_attributes(self, user: User | str) -> pd.DataFrame:
        """Decided items of a supervisor's districts with their group attributes, for fairness.

        One row per decision: the item's district, tier and score, its group attributes as
        enqueued (``settlement``, ``single_parent``, ``large_family``, ``disabled_child``,
        ``low_income``; missing where the payload did not say), the decision, the specialist's
        agreement with the model and who decided. No payload and no rationale is read. The view
        is audited as one ``supervisor_view`` action.

        Parameters
        ----------
        user : User or str
            The acting user; must be a supervisor (or admin). Only their districts are listed.

        Returns
        -------
        pandas.DataFrame
            Columns ``DECIDED_ATTRIBUTE_COLUMNS``, oldest decision first; the yes/no
            attributes are pandas ``boolean`` (missing as ``<NA>``).

        Raises
        ------
        AccessDenied
            The user is not a supervisor (the refusal is audited).
        AuthenticationFailed
            No such user.

        Examples
        --------
        >>> q = ReviewQueue("sqlite://")
        >>> _ = q.add_user("vera", "correct horse", "supervisor", ["north"])
        >>> q.decided_attributes("vera").columns[:5].tolist()
        ['flag_id', 'decision_id', 'district', 'tier', 'score']
        >>> q.audit_log()["action"].tolist()[-1]
        'supervisor_view'
        """
        doing = "supervisor view"
        f, d = m.flags.c, m.decisions.c
        groups = [getattr(f, a) for a in GROUP_ATTRIBUTES]

        def body(conn: sa.Connection) -> list[Any]:
            acting = self._acting_user(conn, user, doing)
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

        rows = self._audited(body)
        out = _frame(rows, DECIDED_ATTRIBUTE_COLUMNS, ints=("flag_id", "decision_id"))
        for a in GROUP_ATTRIBUTES[1:]:
            out[a] = out[a].astype("boolean")
        out["agrees_with_model"] = out["agrees_with_model"].astype(bool)
        return out

    # -- escalation -------------------------------------------------------------------------

    def escalate_overdue(
        self,
        now: datetime,
        *,
        sla_working_days: int = DEFAULT_SLA_WORKING_DAYS,
        holidays: Iterable[date] = (),
    ) -> list[int]:
        """Move open items older than the SLA to supervisors (status ``escalated``).

        An item is overdue when more than ``sla_working_days`` working days (Monday to Friday,
        minus ``holidays``) have passed since it was enqueued. Escalated items still need a
        decision; nothing is ever closed automatically.

        Returns
        -------
        list of int
            The flag_ids escalated now.
        """
        if sla_working_days < 1:
            raise ReviewError(f"sla_working_days must be at least 1; got {sla_working_days}")
        at = _utc(now)
        hol = np.array([np.datetime64(h, "D") for h in holidays], dtype="datetime64[D]")

        def body(conn: sa.Connection) -> list[int]:
            f = m.flags.c
            rows = conn.execute(
                sa.select(f.flag_id, f.family_id, f.district, f.created_at, f.version).where(
                    f.status == "open"
                )
            ).all()
            if not rows:
                return []
            created = np.array([r.created_at for r in rows], dtype="datetime64[D]")
            today = np.datetime64(at.date(), "D")
            elapsed = np.busday_count(created, today, holidays=hol)
            overdue = [r for r, n in zip(rows, elapsed, strict=True) if n > sla_working_days]
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

        return self._audited(body)

    # -- disputed records -------------------------------------------------------------------

    def dispute(self, event_id: str, user: User | str, reason: str, *, family_id: str) -> int:
        """Mark a family's record as disputed; scoring that family again leaves it out.

        Access is checked through the family's district as recorded in the queue.

        Returns
        -------
        int
            The dispute's id.
        """
        text = check_dispute_reason(event_id, reason)
        doing = f"dispute event {event_id}"

        def body(conn: sa.Connection) -> int:
            acting = self._acting_user(conn, user, doing)
            district = conn.execute(
                sa.select(m.flags.c.district)
                .where(m.flags.c.family_id == family_id)
                .order_by(m.flags.c.flag_id.desc())
                .limit(1)
            ).scalar()
            if district is None:
                raise UnknownItem(f"{doing}: family {family_id} is not in the review queue")
            self._check_access(acting, district, doing, family_id=family_id)
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

        return self._audited(body)

    def disputed_event_ids(self, family_id: str | None = None) -> set[str]:
        """Return ids of disputed records (of one family, or all), to leave out when scoring."""
        q = sa.select(m.disputed_records.c.event_id).distinct()
        if family_id is not None:
            q = q.where(m.disputed_records.c.family_id == family_id)
        with self._read() as conn:
            return set(conn.execute(q).scalars())


def verify_audit_log(
    url: str | None = None,
    *,
    connect_timeout: float = 5.0,
    anchor: tuple[int, str] | None = None,
) -> VerifyResult:
    """Check the audit chain of the store at ``url`` (see :meth:`ReviewQueue.verify_audit_log`).

    Examples
    --------
    >>> verify_audit_log("sqlite://")
    VerifyResult(ok=True, n_rows=0, first_broken_seq=None, reason=None)
    """
    resolved = resolve_url(url)
    parsed = sa.make_url(resolved) if "://" in resolved else None
    if (
        parsed is not None
        and parsed.get_backend_name() == "sqlite"
        and parsed.database not in (None, "", ":memory:")
        and not Path(parsed.database).exists()
    ):
        # Verifying must not create an empty store and call it intact.
        raise StoreUnavailable(f"no review store at {parsed.database}")
    with ReviewQueue(resolved, connect_timeout=connect_timeout) as q:
        return q.verify_audit_log(anchor=anchor)
