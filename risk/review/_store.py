"""Engines, transactions and migrations: the only module that knows SQL backends differ.

SQLite: WAL journal, ``BEGIN IMMEDIATE`` for write transactions (writers queue on the file
lock, readers don't block). PostgreSQL: connect timeout, ``lock_timeout`` per transaction and a
``SELECT ... FOR UPDATE`` on the audit chain head, which serialises every audited write.
"""

from __future__ import annotations

import functools
import math
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import StaticPool

from risk.review import _models as m
from risk.review._errors import ReviewError, StoreUnavailable

#: Where the Alembic environment and revisions live (shipped as package data).
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: Our own version table, so the store can share a database with MLflow's ``alembic_version``.
VERSION_TABLE = "review_alembic_version"
#: Default store when neither an URL nor ``RISK_STORE_URL`` is given.
DEFAULT_URL = "sqlite:///risk-review.db"
# pg_advisory_xact_lock key that serialises concurrent migrations ("risk" in ASCII).
_MIGRATE_LOCK_KEY = 0x7269736B
_READ_ONLY = "risk_review_read_only"


def resolve_url(url: str | None) -> str:
    """``url``, else ``RISK_STORE_URL``, else the local SQLite file ``risk-review.db``.

    Examples
    --------
    >>> resolve_url("sqlite://")
    'sqlite://'
    """
    if url:
        return url
    return os.environ.get("RISK_STORE_URL") or DEFAULT_URL


def safe_url(url: str) -> str:
    """Render the URL with any password hidden, for messages.

    Examples
    --------
    >>> safe_url("postgresql+psycopg://bob:secret@db:5432/risk")
    'postgresql+psycopg://bob:***@db:5432/risk'
    """
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparsable store URL>"


def in_memory(url: sa.URL) -> bool:
    """Whether ``url`` is SQLite in memory (a store no other connection or process shares).

    Examples
    --------
    >>> [in_memory(sa.make_url(u)) for u in ("sqlite://", "sqlite:///r.db", "postgresql://h/d")]
    [True, False, False]
    """
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def make_engine(url: str, *, connect_timeout: float, lock_timeout: float) -> sa.Engine:
    """Create an engine for ``url`` that fails fast when the store is unreachable."""
    try:
        u = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StoreUnavailable(f"review store URL {url!r} is not a database URL: {exc}") from None
    backend = u.get_backend_name()
    if backend == "sqlite":
        memory = in_memory(u)
        kwargs: dict[str, Any] = {
            "connect_args": {"timeout": lock_timeout, "check_same_thread": False}
        }
        if memory:
            kwargs["poolclass"] = StaticPool
        engine = sa.create_engine(u, **kwargs)
        _configure_sqlite(engine, wal=not memory, lock_timeout=lock_timeout)
        return engine
    if backend == "postgresql":
        # libpq rounds connect_timeout to whole seconds and treats anything below 2 as 2.
        connect_args = {"connect_timeout": max(2, math.ceil(connect_timeout))}
        return sa.create_engine(
            u, connect_args=connect_args, pool_pre_ping=True, pool_timeout=lock_timeout
        )
    raise StoreUnavailable(
        f"review store {safe_url(url)}: backend {backend!r} is not supported "
        "(use sqlite:///path.db or postgresql+psycopg://...)"
    )


def _configure_sqlite(engine: sa.Engine, *, wal: bool, lock_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event (below) issue BEGIN itself.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if wal:
            _switch_to_wal(cur, lock_timeout=lock_timeout)
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        read_only = conn.get_execution_options().get(_READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _switch_to_wal(cur: sqlite3.Cursor, *, lock_timeout: float) -> None:
    """Put the database file in WAL mode, waiting up to ``lock_timeout`` for other connections.

    The switch is made once per file and needs the file to itself for a moment. When several
    connections open a new file together, SQLite answers some of them "database is locked" at
    once, without waiting out the busy timeout (it would otherwise risk a deadlock between two
    readers that both want to write), so the switch is retried here until the file is in WAL
    mode or the timeout has passed.
    """
    deadline = time.monotonic() + lock_timeout
    pause = 0.005
    while True:
        try:
            if cur.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            if not busy or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(2 * pause, 0.1)


@contextmanager
def translate_errors(url: str) -> Iterator[None]:
    """Turn "cannot connect / busy" database errors into :class:`StoreUnavailable`."""
    try:
        yield
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        raise StoreUnavailable(f"review store {safe_url(url)} unavailable: {reason}") from exc
    except sa.exc.TimeoutError as exc:
        raise StoreUnavailable(
            f"review store {safe_url(url)} unavailable: no free connection ({exc})"
        ) from exc
    except sa.exc.DataError as exc:
        # A value the database refused (e.g. a NUL on PostgreSQL): never show the statement.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else "bad value"
        raise ReviewError(f"review store refused a value: {reason}") from None


@contextmanager
def write_transaction(engine: sa.Engine, *, lock_timeout: float) -> Iterator[sa.Connection]:
    """Open a write transaction that holds the audit chain head until it commits or rolls back.

    Every audited write goes through here, so chain appends never fork and all writers see
    each other's committed work in order (no lost update, and a single lock: no deadlock).
    """
    with engine.connect() as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(lock_timeout * 1000)}ms'")
        conn.execute(sa.select(m.audit_head.c.seq).where(m.audit_head.c.id == 1).with_for_update())
        yield conn


@contextmanager
def read_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """Open a read-only transaction (snapshot on SQLite; read committed on PostgreSQL)."""
    with engine.connect() as conn:
        conn.execution_options(**{_READ_ONLY: True})
        with conn.begin():
            yield conn


# Alembic's command API keeps its environment in module globals: one migration per process
# at a time. Other processes are kept out by the database (see ``_run_on``).
_MIGRATE_LOCK = threading.Lock()


@functools.cache
def _head_revisions() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def _current_revisions(conn: sa.Connection) -> frozenset[str]:
    from alembic.migration import MigrationContext

    ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return frozenset(ctx.get_current_heads())


def migrate(engine: sa.Engine) -> None:
    """Upgrade the store to the newest schema (idempotent: nothing to do at head)."""
    from alembic import command
    from alembic.config import Config

    with engine.connect() as conn:
        if _current_revisions(conn) == _head_revisions():
            return
    with _MIGRATE_LOCK, engine.connect() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def run_env(context: Any) -> None:
    """Body of ``migrations/env.py``: run the migrations on the configured connection."""
    config = context.config
    conn = config.attributes.get("connection")
    if conn is not None:
        _run_on(context, conn)
        return
    url = resolve_url(config.get_main_option("sqlalchemy.url"))
    engine = make_engine(url, connect_timeout=5.0, lock_timeout=30.0)
    with engine.connect() as conn:
        _run_on(context, conn)
    engine.dispose()


def _run_on(context: Any, conn: sa.Connection) -> None:
    context.configure(
        connection=conn,
        target_metadata=m.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=conn.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATE_LOCK_KEY})
        context.run_migrations()
