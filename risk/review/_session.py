"""The store session every queue operation runs in: transactions, refusals, the audit log.

Each write runs in one transaction that holds the audit chain head (see ``_store``), so the
action and its audit row commit together. A refusal (unknown user, no access) rolls the action
back and is then audited in a transaction of its own.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import pandas as pd
import sqlalchemy as sa

from risk.review import _models as m
from risk.review._audit import AuditEntry, VerifyResult, append, read_head, verify_store
from risk.review._errors import AccessDenied, AuthenticationFailed, ReviewError
from risk.review._store import (
    make_engine,
    migrate,
    read_transaction,
    resolve_url,
    safe_url,
    translate_errors,
    write_transaction,
)
from risk.review._users import LoginPolicy, User, can_access

T = TypeVar("T")
_S = TypeVar("_S", bound="_Session")


class _Refusal(Exception):
    """Internal: roll back the action, then audit the refusal in its own transaction."""

    def __init__(self, error: ReviewError, entry: AuditEntry) -> None:
        super().__init__(str(error))
        self.error = error
        self.entry = entry


def _utc(value: datetime | None = None) -> datetime:
    """Naive UTC (the store's convention); aware values are converted, naive taken as UTC."""
    if value is None:
        return datetime.now(UTC).replace(tzinfo=None)
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _name_of(user: User | str | None) -> str:
    if isinstance(user, User):
        return user.name
    return user or ""


def _frame(
    rows: Iterable[Any], columns: Iterable[str], *, ints: Iterable[str] = ()
) -> pd.DataFrame:
    cols = list(columns)
    df = pd.DataFrame([tuple(r) for r in rows], columns=cols)
    for c in ints:
        df[c] = df[c].astype("int64")
    return df


class _Session:
    """Connection, migrations, transactions, acting users and the audit log of one store."""

    def __init__(
        self,
        url: str | None = None,
        *,
        connect_timeout: float = 5.0,
        lock_timeout: float = 30.0,
        login_policy: LoginPolicy = LoginPolicy(),  # noqa: B008 - frozen, immutable
    ) -> None:
        self.url = resolve_url(url)
        self.connect_timeout = connect_timeout
        self.lock_timeout = lock_timeout
        self.login_policy = login_policy
        self._engine = make_engine(
            self.url, connect_timeout=connect_timeout, lock_timeout=lock_timeout
        )
        self._migrated = False
        self._migrate_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({safe_url(self.url)!r})"

    def close(self) -> None:
        """Release the store's connections."""
        self._engine.dispose()

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the store's schema to the newest migration (idempotent).

        Called on first use; call it explicitly to create a store up front.
        """
        with self._migrate_lock, translate_errors(self.url):
            migrate(self._engine)
            self._migrated = True

    def _ready(self) -> None:
        if not self._migrated:
            self.migrate()

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        self._ready()
        with (
            translate_errors(self.url),
            write_transaction(self._engine, lock_timeout=self.lock_timeout) as conn,
        ):
            yield conn

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        self._ready()
        with translate_errors(self.url), read_transaction(self._engine) as conn:
            yield conn

    def _audited(self, body: Callable[[sa.Connection], T]) -> T:
        """Run ``body`` in one write transaction; audit a refusal after rolling it back."""
        try:
            with self._write() as conn:
                return body(conn)
        except _Refusal as refusal:
            with self._write() as conn:
                append(conn, [refusal.entry])
            raise refusal.error from None

    def _load_user(self, conn: sa.Connection, name: str) -> User | None:
        row = conn.execute(sa.select(m.users.c.role).where(m.users.c.name == name)).first()
        if row is None:
            return None
        ds = conn.execute(
            sa.select(m.user_districts.c.district).where(m.user_districts.c.user_name == name)
        ).scalars()
        return User(name=name, role=str(row.role), districts=frozenset(ds))

    def _acting_user(self, conn: sa.Connection, user: User | str | None, doing: str) -> User:
        """Load the acting user as stored now (never trust a ``User`` object's own fields)."""
        name = _name_of(user)
        if not name:
            raise _Refusal(
                AuthenticationFailed(f"{doing}: no user; log in first"),
                AuditEntry("anonymous", "access_denied", doing, {"reason": "no user"}),
            )
        found = self._load_user(conn, name)
        if found is None:
            raise _Refusal(
                AuthenticationFailed(f"{doing}: unknown user {name!r}"),
                AuditEntry(name, "access_denied", doing, {"reason": "unknown user"}),
            )
        return found

    def _check_access(self, user: User, district: str, doing: str, **details: Any) -> None:
        if not can_access(user, district):
            raise _Refusal(
                AccessDenied(f"{doing}: user {user.name!r} has no access to district {district!r}"),
                AuditEntry(
                    user.name,
                    "access_denied",
                    doing,
                    {"reason": "district", "district": district, **details},
                ),
            )

    def _read_checked(self, body: Callable[[sa.Connection], T]) -> T:
        """Run a read that may be refused; the refusal is audited."""
        try:
            with self._read() as conn:
                return body(conn)
        except _Refusal as refusal:
            with self._write() as conn:
                append(conn, [refusal.entry])
            raise refusal.error from None

    def _log(self, entry: AuditEntry) -> None:
        with self._write() as conn:
            append(conn, [entry])

    def log_refusal(self, actor: str, doing: str, reason: str) -> None:
        """Audit a refusal decided outside the store (e.g. an expired login) as ``access_denied``.

        Examples
        --------
        >>> from risk.review import ReviewQueue
        >>> q = ReviewQueue("sqlite://")
        >>> q.log_refusal("anna", "request", "login expired")
        >>> q.audit_log()["action"].tolist()
        ['access_denied']
        """
        self._log(AuditEntry(actor or "anonymous", "access_denied", doing, {"reason": reason}))

    # -- audit ------------------------------------------------------------------------------

    def audit_log(self) -> pd.DataFrame:
        """Return the audit log in chain order (seq, at, actor, action, subject, details, ...)."""
        a = m.audit_log.c
        with self._read() as conn:
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

    def verify_audit_log(self, *, anchor: tuple[int, str] | None = None) -> VerifyResult:
        """Check the audit chain, an exported ``anchor`` and the decisions against the log."""
        with self._read() as conn:
            return verify_store(conn, anchor=anchor)

    def audit_anchor(self) -> tuple[int, str]:
        """Return the chain head ``(seq, hash)`` to keep outside the database."""
        with self._read() as conn:
            return read_head(conn)
