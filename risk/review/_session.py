"""The store session every queue operation runs in: transactions, acting users, refusals.

Each write runs in one transaction that holds the audit chain head (see ``_store``), so the
action and its audit row commit together. A refusal (unknown user, no access) rolls the action
back and is then audited in a transaction of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import pandas as pd
import sqlalchemy as sa

from risk.review import _models as m
from risk.review._audit import AuditEntry, append
from risk.review._errors import AccessDenied, AuthenticationFailed, ReviewError
from risk.review._store import (
    make_engine,
    migrate,
    read_transaction,
    resolve_url,
    translate_errors,
    write_transaction,
)
from risk.review._users import LoginPolicy, User, can_access

T = TypeVar("T")


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


class Session:
    """Connection, migrations, transactions, acting users and refusals of one store.

    The queue's concerns (intake, reading, decisions, supervision, disputes, accounts, the
    audit trail) each hold the one session of their :class:`~risk.review.ReviewQueue`.
    """

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
        self.engine = make_engine(
            self.url, connect_timeout=connect_timeout, lock_timeout=lock_timeout
        )
        self._migrated = False
        self._migrate_lock = threading.Lock()

    def close(self) -> None:
        """Release the store's connections."""
        self.engine.dispose()

    def migrate(self) -> None:
        """Bring the store's schema to the newest migration (idempotent)."""
        with self._migrate_lock, translate_errors(self.url):
            migrate(self.engine)
            self._migrated = True

    def _ready(self) -> None:
        if not self._migrated:
            self.migrate()

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """One write transaction (it holds the audit chain head), store errors translated."""
        self._ready()
        with (
            translate_errors(self.url),
            write_transaction(self.engine, lock_timeout=self.lock_timeout) as conn,
        ):
            yield conn

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """One read transaction, store errors translated."""
        self._ready()
        with translate_errors(self.url), read_transaction(self.engine) as conn:
            yield conn

    def audited(self, body: Callable[[sa.Connection], T]) -> T:
        """Run ``body`` in one write transaction; audit a refusal after rolling it back."""
        try:
            with self.write() as conn:
                return body(conn)
        except _Refusal as refusal:
            with self.write() as conn:
                append(conn, [refusal.entry])
            raise refusal.error from None

    def read_checked(self, body: Callable[[sa.Connection], T]) -> T:
        """Run a read that may be refused; the refusal is audited."""
        try:
            with self.read() as conn:
                return body(conn)
        except _Refusal as refusal:
            with self.write() as conn:
                append(conn, [refusal.entry])
            raise refusal.error from None

    def read_as(self, body: Callable[[sa.Connection], T], user: User | str | None) -> T:
        """Run a read for ``user`` (refusals audited), or for a back-office tool (None)."""
        if user is None:
            with self.read() as conn:
                return body(conn)
        return self.read_checked(body)

    def log(self, entry: AuditEntry) -> None:
        """Append one audit entry in a transaction of its own."""
        with self.write() as conn:
            append(conn, [entry])

    def load_user(self, conn: sa.Connection, name: str) -> User | None:
        """Load the user ``name`` as stored now (None: no such user), in one query."""
        u, d = m.users.c, m.user_districts.c
        rows = conn.execute(
            sa.select(u.role, d.district)
            .select_from(m.users.outerjoin(m.user_districts, d.user_name == u.name))
            .where(u.name == name)
        ).all()
        if not rows:
            return None
        districts = frozenset(str(r.district) for r in rows if r.district is not None)
        return User(name=name, role=str(rows[0].role), districts=districts)

    def acting_user(self, conn: sa.Connection, user: User | str | None, doing: str) -> User:
        """Load the acting user as stored now (never trust a ``User`` object's own fields)."""
        name = _name_of(user)
        if not name:
            raise _Refusal(
                AuthenticationFailed(f"{doing}: no user; log in first", reason="no_user"),
                AuditEntry("anonymous", "access_denied", doing, {"reason": "no user"}),
            )
        found = self.load_user(conn, name)
        if found is None:
            raise _Refusal(
                AuthenticationFailed(f"{doing}: unknown user {name!r}", reason="unknown_user"),
                AuditEntry(name, "access_denied", doing, {"reason": "unknown user"}),
            )
        return found

    def check_access(self, user: User, district: str, doing: str, **details: Any) -> None:
        """Refuse (and so audit) ``doing`` unless ``user`` may act on ``district``."""
        if not can_access(user, district):
            raise _Refusal(
                AccessDenied(
                    f"{doing}: user {user.name!r} has no access to district {district!r}",
                    reason="district",
                    params={"district": district},
                ),
                AuditEntry(
                    user.name,
                    "access_denied",
                    doing,
                    {"reason": "district", "district": district, **details},
                ),
            )
