"""The mapping file: which extract feeds which record table, and how its columns are read.

The file is TOML, one ``[extracts.NAME]`` table per extract (see ``docs/ingest.md``). It is parsed
and checked once, here, into frozen dataclasses; every problem is a :class:`MappingError` naming
the file, the extract and the key.
"""

from __future__ import annotations

import codecs
import glob
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

from features import EVENT_TYPES, SOURCES, TABLES, EventType, InputError

Format = Literal["csv", "xlsx", "parquet", "sql"]
FORMATS: tuple[str, ...] = ("csv", "xlsx", "parquet", "sql")
TABLE_NAMES: tuple[str, ...] = tuple(TABLES)
#: Record columns an extract may leave unmapped (``event_id`` is then generated, stably).
OPTIONAL_COLUMNS: dict[str, frozenset[str]] = {
    "families": frozenset(),
    "members": frozenset(),
    "events": frozenset({"event_id", "member_id", "value"}),
    "outcomes": frozenset(),
}
#: Record columns that come from the extract's ``source`` key, never from a column.
IMPLIED_COLUMNS: dict[str, frozenset[str]] = {"events": frozenset({"source"})}
KEYS = frozenset(
    {
        "table",
        "source",
        "path",
        "url",
        "query",
        "format",
        "encoding",
        "delimiter",
        "date_format",
        "sheet",
        "chunksize",
        "columns",
        "codes",
        "values",
    }
)
DEFAULT_CHUNKSIZE = 200_000


class MappingError(InputError):
    """The mapping file is wrong: the message names the file, the extract and the key."""


@dataclass(frozen=True)
class Extract:
    """One extract of the mapping, checked.

    Attributes
    ----------
    name : str
        The ``NAME`` of ``[extracts.NAME]``.
    table : {"families", "members", "events", "outcomes"}
        The record table it feeds.
    format : {"csv", "xlsx", "parquet", "sql"}
        How it is read.
    files : tuple of Path
        The files its ``path`` glob matched (sorted); empty for SQL extracts.
    columns : mapping of str to str
        Record column -> extract column.
    source : str or None
        The agency (events only).
    url, query : str or None
        SQL extracts: SQLAlchemy URL and the query.
    encoding, delimiter, date_format : str or None
        CSV text encoding and delimiter; ``strptime`` format of text dates (None: ISO).
    sheet : str or int
        Worksheet of an xlsx workbook (name or 0-based position).
    codes : mapping of str to str
        Extract code -> event type (events).
    values : mapping of str to mapping of str to str
        Record column -> (extract value -> record value), e.g. ``role``: ``мать`` -> ``mother``.
    chunksize : int
        Rows per chunk of an SQL query.
    """

    name: str
    table: str
    format: Format
    files: tuple[Path, ...]
    columns: Mapping[str, str]
    source: str | None = None
    url: str | None = None
    query: str | None = None
    encoding: str = "utf-8"
    delimiter: str = ","
    date_format: str | None = None
    sheet: str | int = 0
    codes: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    chunksize: int = DEFAULT_CHUNKSIZE


@dataclass(frozen=True)
class IngestMapping:
    """A checked mapping file: its path and its extracts in file order."""

    path: Path
    extracts: tuple[Extract, ...]

    def for_table(self, table: str) -> tuple[Extract, ...]:
        """Return the extracts feeding ``table``."""
        return tuple(e for e in self.extracts if e.table == table)


def load_mapping(
    path: str | Path, *, event_types: Mapping[str, EventType] | None = None
) -> IngestMapping:
    """Read and check a mapping file.

    Parameters
    ----------
    path : path-like
        The TOML file; ``path`` globs in it are relative to its folder.
    event_types : mapping of str to EventType, optional
        The known event types (``codes`` must map to one of them); default
        :data:`features.EVENT_TYPES`.

    Raises
    ------
    MappingError
        Naming the file, the extract and the key of the first problem.
    """
    file = Path(path)
    types = EVENT_TYPES if event_types is None else event_types
    try:
        raw = tomllib.loads(file.read_text("utf-8"))
    except FileNotFoundError:
        raise MappingError(f"{file}: no such mapping file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"{file}: not valid TOML: {exc}") from exc
    unknown = sorted(set(raw) - {"extracts"})
    if unknown:
        raise MappingError(f"{file}: unknown top-level key {unknown[0]!r}; expected [extracts.*]")
    extracts = raw.get("extracts")
    if not isinstance(extracts, dict) or not extracts:
        raise MappingError(f"{file}: no [extracts.NAME] tables")
    parsed = tuple(_extract(file, name, body, types) for name, body in extracts.items())
    if not any(e.table == "families" for e in parsed):
        raise MappingError(f'{file}: no extract has table = "families"; every record needs one')
    return IngestMapping(file, parsed)


def _extract(file: Path, name: str, body: object, types: Mapping[str, EventType]) -> Extract:
    where = f"{file}: [extracts.{name}]"
    if not isinstance(body, dict):
        raise MappingError(f"{where} must be a table")
    unknown = sorted(set(body) - KEYS)
    if unknown:
        raise MappingError(
            f"{where} unknown key {unknown[0]!r}; keys are {', '.join(sorted(KEYS))}"
        )
    table = _required(where, body, "table")
    if table not in TABLE_NAMES:
        raise MappingError(f"{where} table must be one of {', '.join(TABLE_NAMES)}; got {table!r}")
    fmt = _required(where, body, "format")
    if fmt not in FORMATS:
        raise MappingError(f"{where} format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    source = _source(where, body, table)
    files, url, query = _location(file, where, body, fmt)
    encoding = _text(where, body, "encoding", "utf-8", fmt)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise MappingError(f"{where} encoding {encoding!r} is not a known encoding") from None
    delimiter = _text(where, body, "delimiter", ",", fmt)
    if len(delimiter) != 1:
        raise MappingError(f"{where} delimiter must be one character; got {delimiter!r}")
    date_format = body.get("date_format")
    if date_format is not None and (not isinstance(date_format, str) or "%" not in date_format):
        raise MappingError(
            f"{where} date_format must be a strptime format such as '%d.%m.%Y'; got {date_format!r}"
        )
    sheet = body.get("sheet", 0)
    if fmt != "xlsx" and "sheet" in body:
        raise MappingError(f"{where} sheet is for xlsx extracts only")
    if not isinstance(sheet, str | int):
        raise MappingError(f"{where} sheet must be a name or a 0-based position; got {sheet!r}")
    chunksize = body.get("chunksize", DEFAULT_CHUNKSIZE)
    if not isinstance(chunksize, int) or isinstance(chunksize, bool) or chunksize < 1:
        raise MappingError(f"{where} chunksize must be a positive whole number; got {chunksize!r}")
    columns = _columns(where, body, table)
    codes = _codes(where, body, table, source, types)
    values = _values(where, body, table, columns)
    return Extract(
        name=name,
        table=table,
        format=cast(Format, fmt),
        files=files,
        columns=columns,
        source=source,
        url=url,
        query=query,
        encoding=encoding,
        delimiter=delimiter,
        date_format=date_format,
        sheet=sheet,
        codes=codes,
        values=values,
        chunksize=chunksize,
    )


def _required(where: str, body: dict, key: str) -> str:
    if key not in body:
        raise MappingError(f"{where} missing key {key!r}")
    value = body[key]
    if not isinstance(value, str) or not value:
        raise MappingError(f"{where} {key} must be a non-empty string; got {value!r}")
    return value


def _text(where: str, body: dict, key: str, default: str, fmt: str) -> str:
    if key not in body:
        return default
    if fmt != "csv":
        raise MappingError(f"{where} {key} is for csv extracts only")
    value = body[key]
    if not isinstance(value, str):
        raise MappingError(f"{where} {key} must be a string; got {value!r}")
    return value


def _source(where: str, body: dict, table: str) -> str | None:
    if table != "events":
        if "source" in body:
            raise MappingError(f"{where} source is for events extracts only")
        return None
    if "source" not in body:
        raise MappingError(
            f"{where} missing key 'source' (the agency of an events extract: "
            f"one of {', '.join(SOURCES)})"
        )
    source = body["source"]
    if source not in SOURCES:
        raise MappingError(f"{where} source must be one of {', '.join(SOURCES)}; got {source!r}")
    return str(source)


def _location(
    file: Path, where: str, body: dict, fmt: str
) -> tuple[tuple[Path, ...], str | None, str | None]:
    if fmt == "sql":
        if "path" in body:
            raise MappingError(
                f"{where} path is for file extracts; sql extracts take url and query"
            )
        return (), _required(where, body, "url"), _required(where, body, "query")
    for key in ("url", "query"):
        if key in body:
            raise MappingError(f"{where} {key} is for sql extracts only")
    pattern = _required(where, body, "path")
    base = file.parent
    files = tuple(
        sorted(Path(p) for p in glob.glob(str(base / pattern), recursive=True) if Path(p).is_file())
    )
    if not files:
        raise MappingError(f"{where} path {pattern!r} matches no file (relative to {base})")
    return files, None, None


def _string_table(where: str, body: dict, key: str) -> dict[str, str]:
    value = body.get(key, {})
    if not isinstance(value, dict):
        raise MappingError(f"{where} {key} must be a table")
    for k, v in value.items():
        if not isinstance(v, str):
            raise MappingError(f"{where.removesuffix(']')}.{key}] {k!r} must map to a string")
    return dict(value)


def _columns(where: str, body: dict, table: str) -> dict[str, str]:
    if "columns" not in body:
        raise MappingError(f"{where} missing key 'columns'")
    columns = _string_table(where, body, "columns")
    section = f"{where.removesuffix(']')}.columns]"
    allowed = [
        c for c in TABLES[table].column_names if c not in IMPLIED_COLUMNS.get(table, frozenset())
    ]
    for column in columns:
        if column not in allowed:
            raise MappingError(
                f"{section} unknown record column {column!r}; {table} columns are "
                f"{', '.join(allowed)}"
            )
    missing = [c for c in allowed if c not in columns and c not in OPTIONAL_COLUMNS[table]]
    if missing:
        raise MappingError(f"{section} record column {missing[0]!r} is not mapped")
    return columns


def _codes(
    where: str, body: dict, table: str, source: str | None, types: Mapping[str, EventType]
) -> dict[str, str]:
    if table != "events":
        if "codes" in body:
            raise MappingError(
                f"{where} codes are for events extracts; use [extracts.NAME.values.COLUMN]"
            )
        return {}
    codes = _string_table(where, body, "codes")
    section = f"{where.removesuffix(']')}.codes]"
    for code, event_type in codes.items():
        known = types.get(event_type)
        if known is None:
            raise MappingError(f"{section} {code!r} maps to unknown event type {event_type!r}")
        if known.source != source:
            raise MappingError(
                f"{section} {code!r} maps to {event_type!r}, an event type of source "
                f"{known.source}, not {source}"
            )
    return codes


def _values(
    where: str, body: dict, table: str, columns: dict[str, str]
) -> dict[str, dict[str, str]]:
    raw = body.get("values", {})
    if not isinstance(raw, dict):
        raise MappingError(f"{where} values must be a table of tables")
    spec = {c.name: c for c in TABLES[table].columns}
    out: dict[str, dict[str, str]] = {}
    for column, mapping in raw.items():
        section = f"{where.removesuffix(']')}.values.{column}]"
        col = spec.get(column)
        if col is None or column not in columns or col.kind != "string":
            raise MappingError(f"{section} {column!r} is not a mapped text column of {table}")
        if table == "events" and column == "event_type":
            raise MappingError(f"{section} event types are mapped in [extracts.NAME.codes]")
        if not isinstance(mapping, dict):
            raise MappingError(f"{section} must be a table")
        for value, target in mapping.items():
            if not isinstance(target, str):
                raise MappingError(f"{section} {value!r} must map to a string")
            if col.codes is not None and target not in col.codes:
                raise MappingError(
                    f"{section} {value!r} maps to unknown {column} {target!r}; allowed: "
                    f"{', '.join(col.codes)}"
                )
        out[column] = dict(mapping)
    return out
