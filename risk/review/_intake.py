"""Intake: a scoring run's flags enter the queue, in one transaction, exactly once."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from risk.review import _models as m
from risk.review._audit import AuditEntry, append
from risk.review._errors import ReviewError
from risk.review._screening import ScreeningLike, prepare_run
from risk.review._session import Session, _utc

#: Rows per INSERT statement when enqueueing a run.
ENQUEUE_CHUNK = 2000


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


class Intake:
    """Enqueue scoring runs and list them, over a store session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def enqueue(self, screening: ScreeningLike, run_id: str, *, actor: str) -> EnqueueResult:
        """Put every flag of a run in the queue, once (see :meth:`ReviewQueue.enqueue`)."""
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

        return self.session.audited(body)

    def runs(self) -> pd.DataFrame:
        """List the enqueued runs, oldest first."""
        with self.session.read() as conn:
            rows = conn.execute(sa.select(m.runs).order_by(m.runs.c.created_at)).mappings().all()
        out = pd.DataFrame(
            [{**r, "tier_counts": json.loads(r["tier_counts_json"])} for r in rows],
            columns=[*(c.name for c in m.runs.columns), "tier_counts"],
        )
        return out.drop(columns="tier_counts_json")
