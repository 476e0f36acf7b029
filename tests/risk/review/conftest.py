"""Store fixtures: every store test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``RISK_TEST_POSTGRES_URL`` (default: the CI service on 127.0.0.1:5432,
database ``test``). Each store gets its own schema, dropped afterwards. If PostgreSQL cannot be
reached the PostgreSQL half is skipped, unless ``RISK_REQUIRE_POSTGRES=1`` (CI), which fails.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

PG_URL = os.environ.get(
    "RISK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@functools.cache
def _pg_unreachable() -> str | None:
    engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3}, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        return f"PostgreSQL at {PG_URL} unreachable: {str(exc.orig).strip().splitlines()[0]}"
    finally:
        engine.dispose()
    return None


def _require_pg() -> None:
    reason = _pg_unreachable()
    if reason is None:
        return
    if os.environ.get("RISK_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"RISK_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


@contextmanager
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema (dropped on exit)."""
    _require_pg()
    schema = f"risk_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL, poolclass=sa.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = sa.make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@contextmanager
def store_at(backend: str, directory: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{directory / f'review-{uuid.uuid4().hex[:8]}.db'}"
    else:
        with pg_schema_url() as url:
            yield url


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store for one test."""
    with store_at(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="module", params=BACKENDS)
def module_store_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A store shared by one module's tests (for property tests: use unique ids)."""
    with store_at(request.param, tmp_path_factory.mktemp("store")) as url:
        yield url
