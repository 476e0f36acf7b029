"""Readers of extracts: CSV, xlsx, Parquet and SQL, each yielding Arrow chunks.

A reader only reads: it selects the mapped columns, renames them to record columns and numbers
the rows (``line``: the line in a CSV file counting the header as line 1, the row in an xlsx
sheet, the 1-based row of a Parquet file or an SQL result). Conversion is ``_convert``'s job.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from features import UnavailableError
from risk.ingest._mapping import Extract, MappingError

#: Bytes per block of the CSV reader: big blocks parse faster on few cores.
CSV_BLOCK_SIZE = 16 << 20
PARQUET_BATCH_ROWS = 1_000_000


@dataclass(frozen=True)
class Part:
    """One file of an extract (or the query of an SQL extract): what the rejects call ``file``."""

    extract: Extract
    label: str
    path: Path | None
    mapping: Path


@dataclass(frozen=True)
class Chunk:
    """Rows read from one part: record columns (as the extract holds them) and their lines."""

    table: pa.Table
    lines: np.ndarray


def parts(extract: Extract, mapping: Path) -> tuple[Part, ...]:
    """Return the files of an extract (labelled relative to the mapping file), or its query."""
    if extract.format == "sql":
        import sqlalchemy as sa

        try:
            label = sa.make_url(extract.url or "").render_as_string(hide_password=True)
        except sa.exc.ArgumentError as exc:
            raise MappingError(
                f"{mapping}: [extracts.{extract.name}] url is not a database URL: {exc}"
            ) from exc
        return (Part(extract, label, None, mapping),)
    return tuple(Part(extract, _relative(p, mapping.parent), p, mapping) for p in extract.files)


def read_part(part: Part) -> Iterator[Chunk]:
    """Yield the chunks of one part with the mapped columns renamed to record columns."""
    readers = {"csv": _read_csv, "xlsx": _read_xlsx, "parquet": _read_parquet, "sql": _read_sql}
    yield from readers[part.extract.format](part)


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def _where(part: Part) -> str:
    return f"{part.mapping}: [extracts.{part.extract.name}] {part.label}"


def _check_columns(part: Part, found: list[str]) -> None:
    missing = [(r, c) for r, c in part.extract.columns.items() if c not in found]
    if missing:
        record, column = missing[0]
        raise MappingError(
            f"{_where(part)}: no column {column!r} (key columns.{record}); "
            f"columns are {', '.join(map(repr, found))}"
        )


def _select(part: Part, table: pa.Table) -> pa.Table:
    cols = part.extract.columns
    return pa.table({record: table.column(column) for record, column in cols.items()})


def _read_csv(part: Part) -> Iterator[Chunk]:
    ex = part.extract
    assert part.path is not None
    encoding = (
        "utf-8-sig" if ex.encoding.lower().replace("_", "-") in {"utf-8", "utf8"} else ex.encoding
    )
    try:
        with part.path.open(encoding=encoding, newline="") as fh:
            header = next(csv.reader(fh, delimiter=ex.delimiter), [])
    except UnicodeDecodeError as exc:
        raise MappingError(f"{_where(part)}: not {ex.encoding} text (key encoding): {exc}") from exc
    _check_columns(part, header)
    wanted = sorted(set(ex.columns.values()))
    try:
        table = pacsv.read_csv(
            part.path,
            read_options=pacsv.ReadOptions(encoding=ex.encoding, block_size=CSV_BLOCK_SIZE),
            parse_options=pacsv.ParseOptions(delimiter=ex.delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in wanted},
                include_columns=wanted,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise MappingError(
            f"{_where(part)}: cannot be read as CSV with encoding {ex.encoding!r} and "
            f"delimiter {ex.delimiter!r}: {exc}"
        ) from exc
    # Line numbers assume one line per record (pyarrow refuses newlines inside values here).
    yield Chunk(_select(part, table), np.arange(2, table.num_rows + 2, dtype=np.int64))


def _arrow(series: pd.Series) -> pa.Array:
    """Return a column read by pandas as Arrow; mixed Python objects become text."""
    try:
        return pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return pa.array(series.map(lambda v: None if pd.isna(v) else str(v)), pa.string())


def _from_pandas(part: Part, frame: pd.DataFrame) -> pa.Table:
    _check_columns(part, [str(c) for c in frame.columns])
    frame.columns = [str(c) for c in frame.columns]
    return pa.table({r: _arrow(frame[c]) for r, c in part.extract.columns.items()})


def _read_xlsx(part: Part) -> Iterator[Chunk]:
    try:
        frame = pd.read_excel(part.path, sheet_name=part.extract.sheet, engine="calamine")
    except ImportError as exc:
        raise UnavailableError(f"reading xlsx extracts needs python-calamine: {exc}") from exc
    except (ValueError, OSError) as exc:
        raise MappingError(f"{_where(part)}: cannot be read as an xlsx workbook: {exc}") from exc
    table = _from_pandas(part, frame)
    # Row 1 of the sheet is the header.
    yield Chunk(table, np.arange(2, table.num_rows + 2, dtype=np.int64))


def _read_parquet(part: Part) -> Iterator[Chunk]:
    try:
        file = pq.ParquetFile(part.path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise MappingError(f"{_where(part)}: cannot be read as Parquet: {exc}") from exc
    _check_columns(part, file.schema_arrow.names)
    wanted = sorted(set(part.extract.columns.values()))
    start = 1
    for batch in file.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=wanted):
        table = _select(part, pa.Table.from_batches([batch]))
        yield Chunk(table, np.arange(start, start + table.num_rows, dtype=np.int64))
        start += table.num_rows


def _read_sql(part: Part) -> Iterator[Chunk]:
    import sqlalchemy as sa

    ex = part.extract
    try:
        engine = sa.create_engine(ex.url or "", poolclass=sa.NullPool)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise MappingError(
            f"{part.mapping}: [extracts.{ex.name}] url cannot be used: {exc}"
        ) from exc
    try:
        conn = engine.connect()
    except sa.exc.OperationalError as exc:
        engine.dispose()
        raise UnavailableError(f"{_where(part)}: database unavailable: {exc.orig}") from exc
    start = 1
    try:
        with conn:
            chunks = pd.read_sql_query(sa.text(ex.query or ""), conn, chunksize=ex.chunksize)
            for frame in chunks:
                table = _from_pandas(part, frame)
                yield Chunk(table, np.arange(start, start + table.num_rows, dtype=np.int64))
                start += table.num_rows
    except (sa.exc.DBAPIError, pd.errors.DatabaseError) as exc:
        # pandas wraps the driver's error; its cause holds the driver's own message.
        cause = exc if isinstance(exc, sa.exc.DBAPIError) else exc.__cause__
        reason = str(getattr(cause, "orig", None) or exc).strip()
        raise MappingError(f"{_where(part)}: query failed (key query): {reason}") from exc
    finally:
        engine.dispose()
