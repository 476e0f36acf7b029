"""SQL extracts, read through SQLAlchemy in chunks: SQLite here, PostgreSQL as CI has it.

PostgreSQL comes from ``RISK_TEST_POSTGRES_URL`` (default the CI service on 127.0.0.1:5432,
database ``test``); unreachable, its tests are skipped unless ``RISK_REQUIRE_POSTGRES=1`` (CI).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from pandas.testing import assert_frame_equal

from features import Records, load_records
from risk.ingest import ingest

PG_URL = os.environ.get(
    "RISK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SOURCES = ("social_protection", "education", "health", "police", "employment", "housing")
KEYS = {
    "families": ["family_id"],
    "members": ["member_id"],
    "events": ["event_id"],
    "outcomes": ["family_id", "outcome_date", "outcome_type"],
}


def _write_tables(engine: sa.Engine, prefix: str, records: Records) -> None:
    for name in KEYS:
        frame = records.table(name).copy()
        for col in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[col]):
                frame[col] = frame[col].dt.date
        if name == "events":
            frame = frame.drop(columns="source").assign(source=records.events["source"])
        frame.to_sql(f"{prefix}_{name}", engine, index=False, chunksize=5000)


def _mapping(folder: Path, url: str, prefix: str) -> Path:
    text = []
    for name in ("families", "members", "outcomes"):
        columns = "\n".join(f'{c} = "{c}"' for c in Records.empty().table(name).columns)
        text.append(
            f'[extracts.{name}]\ntable = "{name}"\nformat = "sql"\nurl = "{url}"\n'
            f'query = "select * from {prefix}_{name}"\nchunksize = 3000\n'
            f"[extracts.{name}.columns]\n{columns}\n"
        )
    columns = "\n".join(f'{c} = "{c}"' for c in Records.empty().events.columns if c != "source")
    for source in SOURCES:
        text.append(
            f'[extracts.{source}]\ntable = "events"\nsource = "{source}"\nformat = "sql"\n'
            f'url = "{url}"\nchunksize = 4000\n'
            f"query = \"select * from {prefix}_events where source = '{source}'\"\n"
            f"[extracts.{source}.columns]\n{columns}\n"
        )
    path = folder / "mapping.toml"
    path.write_text("\n".join(text), encoding="utf-8")
    return path


def _round_trip(records: Records, url: str, folder: Path) -> None:
    prefix = f"ingest_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        _write_tables(engine, prefix, records)
        result = ingest(_mapping(folder, url, prefix), folder / "out", extraction_date="2025-12-31")
    finally:
        with engine.begin() as conn:
            for name in KEYS:
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {prefix}_{name}")
        engine.dispose()
    assert result.summary["rejected"] == 0
    assert result.summary["extracts"]["police"]["files"][0]["file"] == sa.make_url(
        url
    ).render_as_string(hide_password=True)
    back = load_records(folder / "out")
    for name, keys in KEYS.items():
        original = records.table(name)
        assert_frame_equal(
            back.table(name)[list(original.columns)].sort_values(keys, ignore_index=True),
            original.sort_values(keys, ignore_index=True),
        )


def test_sqlite_round_trip(sample: Records, tmp_path: Path) -> None:
    _round_trip(sample, f"sqlite:///{tmp_path / 'warehouse.db'}", tmp_path)


@pytest.fixture
def pg_url() -> Iterator[str]:
    engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3}, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        reason = f"PostgreSQL at {PG_URL} unreachable: {str(exc.orig).strip().splitlines()[0]}"
        if os.environ.get("RISK_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"RISK_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    finally:
        engine.dispose()
    yield PG_URL


@pytest.mark.postgres
def test_postgres_round_trip(sample: Records, tmp_path: Path, pg_url: str) -> None:
    _round_trip(sample, pg_url, tmp_path)


def test_integer_ids_with_nulls_arrive_as_floats_and_are_read_as_whole_numbers(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("create table fam (id integer, district text, kind text, reg text)")
        conn.exec_driver_sql("insert into fam values (1, 'a', 'urban', '2020-01-01')")
        conn.exec_driver_sql("create table ev (fam integer, child integer, day text, n real)")
        conn.exec_driver_sql("insert into ev values (1, null, '2024-01-02', 1500.5)")
    engine.dispose()
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        f"""
[extracts.fam]
table = "families"
format = "sql"
url = "{url}"
query = "select id, district, kind, reg from fam"
[extracts.fam.columns]
family_id = "id"
district = "district"
settlement = "kind"
registered_on = "reg"
[extracts.debts]
table = "events"
source = "housing"
format = "sql"
url = "{url}"
query = "select fam * 1.0 as fam, child, day, n from ev"
[extracts.debts.columns]
family_id = "fam"
member_id = "child"
event_date = "day"
value = "n"
event_type = "day"
[extracts.debts.codes]
"2024-01-02" = "utility_debt"
""",
        encoding="utf-8",
    )
    ingest(mapping, tmp_path / "out")
    recs = load_records(tmp_path / "out")
    assert list(recs.families["family_id"]) == ["1"]
    assert list(recs.events["family_id"]) == ["1"]
    assert recs.events["member_id"].isna().all()
    assert list(recs.events["value"]) == [1500.5]


def test_a_failing_query_names_the_extract_and_the_key(tmp_path: Path) -> None:
    from risk.ingest import MappingError

    url = f"sqlite:///{tmp_path / 'w.db'}"
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        f"""
[extracts.fam]
table = "families"
format = "sql"
url = "{url}"
query = "select * from nowhere"
[extracts.fam.columns]
family_id = "id"
district = "district"
settlement = "kind"
registered_on = "reg"
""",
        encoding="utf-8",
    )
    with pytest.raises(
        MappingError,
        match=r"\[extracts\.fam\] sqlite:///.*w\.db: query failed "
        r"\(key query\): no such table: nowhere",
    ):
        ingest(mapping, tmp_path / "out")
