"""The audit trail as read back: the log in chain order, its verification, outside refusals."""

from __future__ import annotations

import json

import pandas as pd
import sqlalchemy as sa

from risk.review import _models as m
from risk.review._audit import AuditEntry, VerifyResult, read_head, verify_store
from risk.review._session import Session, _frame


class AuditTrail:
    """Read and check the hash-chained audit log of a store session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def log_refusal(self, actor: str, doing: str, reason: str) -> None:
        """Audit a refusal decided outside the store as ``access_denied``."""
        self.session.log(
            AuditEntry(actor or "anonymous", "access_denied", doing, {"reason": reason})
        )

    def audit_log(self) -> pd.DataFrame:
        """Return the audit log in chain order."""
        a = m.audit_log.c
        with self.session.read() as conn:
            rows = conn.execute(sa.select(m.audit_log).order_by(a.seq)).all()
        data = [
            (
                r.seq,
                r.at,
                r.actor,
                r.action,
                r.subject,
                json.loads(r.details_json),
                r.prev_hash,
                r.hash,
            )
            for r in rows
        ]
        return _frame(
            data,
            ("seq", "at", "actor", "action", "subject", "details", "prev_hash", "hash"),
            ints=("seq",),
        )

    def verify(self, *, anchor: tuple[int, str] | None = None) -> VerifyResult:
        """Check the audit chain, an exported ``anchor`` and the decisions against the log."""
        with self.session.read() as conn:
            return verify_store(conn, anchor=anchor)

    def anchor(self) -> tuple[int, str]:
        """Return the chain head ``(seq, hash)`` to keep outside the database."""
        with self.session.read() as conn:
            return read_head(conn)
