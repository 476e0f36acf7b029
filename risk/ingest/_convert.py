"""Conversion of extract rows into typed record rows, and the rows that cannot be taken.

Every step is vectorised over Arrow arrays: text is trimmed and empty text is null; dates are
parsed with the extract's ``strptime`` format; numbers accept decimal commas (``12,5``) and spaces
between thousands; booleans accept ``true/false``, ``1/0``, ``да/нет`` (and ``yes/no``,
``истина/ложь``, any case); codes and values go through the mapping's tables. A row with a
problem is dropped and reported once, for its first problem in schema order.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from features import TABLES, EventType
from risk.ingest._mapping import Extract
from risk.ingest._readers import Chunk

TRUE_WORDS = ("true", "1", "да", "yes", "истина", "t", "y", "д")
FALSE_WORDS = ("false", "0", "нет", "no", "ложь", "f", "n", "н")
ISO_DATE = "%Y-%m-%d"
NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
#: Columns of the rejects, in the order of ``rejects.csv``.
REJECT_FIELDS = ("extract", "file", "line", "column", "value", "reason")
REJECT_SCHEMA = pa.schema(
    [
        ("_part", pa.int32()),
        ("_line", pa.int64()),
        ("column", pa.string()),
        ("value", pa.string()),
        ("reason", pa.string()),
    ]
)


@dataclass
class Converted:
    """One chunk, converted: typed record rows (with ``_part`` and ``_line``) and rejects."""

    table: pa.Table
    rejects: pa.Table
    unmapped: Counter[tuple[str, str]]


class _Rejects:
    """Collects the first problem of each row."""

    def __init__(self, n: int, part: int, lines: np.ndarray) -> None:
        self.rejected = np.zeros(n, dtype=bool)
        self.part = part
        self.lines = lines
        self.tables: list[pa.Table] = []

    def add(self, mask: np.ndarray, column: str, values: pa.Array, reason: str) -> None:
        new = mask & ~self.rejected
        if not new.any():
            return
        self.rejected |= new
        idx = np.flatnonzero(new)
        self.tables.append(
            pa.table(
                {
                    "_part": pa.array(np.full(len(idx), self.part, dtype=np.int32)),
                    "_line": pa.array(self.lines[idx]),
                    "column": pa.repeat(pa.scalar(column, pa.string()), len(idx)),
                    "value": values.take(pa.array(idx)).cast(pa.string()),
                    "reason": pa.repeat(pa.scalar(reason, pa.string()), len(idx)),
                },
                schema=REJECT_SCHEMA,
            )
        )

    def table(self) -> pa.Table:
        if not self.tables:
            return REJECT_SCHEMA.empty_table()
        return pa.concat_tables(self.tables)


def _mask(arr: pa.Array) -> np.ndarray:
    """Return a boolean Arrow array as numpy, null as False."""
    return np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def as_text(arr: pa.Array) -> pa.Array:
    """Return the text of a column: trimmed, empty text null, whole floats without ``.0``."""
    t = arr.type
    if pa.types.is_floating(t):
        valid = arr.drop_null()
        if len(valid) and pc.all(pc.equal(pc.floor(valid), valid)).as_py():
            arr = arr.cast(pa.int64())
    if pa.types.is_null(t):
        return pa.nulls(len(arr), pa.string())
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        arr = arr.cast(pa.string())
    arr = pc.utf8_trim_whitespace(arr.cast(pa.string()))
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def as_dates(arr: pa.Array, text: pa.Array, date_format: str | None) -> pa.Array:
    """Dates (``timestamp[s]`` at midnight); null where the text does not parse."""
    t = arr.type
    if pa.types.is_timestamp(t):
        if t.tz is not None:
            arr = pc.local_timestamp(arr)
        return pc.floor_temporal(arr.cast(pa.timestamp("s")), unit="day")
    if pa.types.is_date(t):
        return arr.cast(pa.timestamp("s"))
    # Dates repeat: parse each distinct text once. Arrow rolls impossible days over (31.02.2024
    # becomes 2024-03-02), so a date is taken only when it prints back as written; the others
    # (unpadded days, say) go to Python's strict strptime.
    encoded = pc.dictionary_encode(text)
    fmt = date_format or ISO_DATE
    words = encoded.dictionary
    parsed = pc.strptime(words, format=fmt, unit="s", error_is_null=True)
    same = _mask(pc.equal(pc.strftime(parsed, format=fmt), words))
    odd = np.flatnonzero(_mask(pc.is_valid(parsed)) & ~same)
    if len(odd):
        values = np.array(parsed.to_numpy(zero_copy_only=False), dtype="datetime64[s]")
        values[odd] = np.array(
            [_strict(v, fmt) for v in words.take(pa.array(odd)).to_pylist()],
            dtype="datetime64[s]",
        )
        parsed = pa.array(values, pa.timestamp("s"), from_pandas=True)
    return parsed.take(encoded.indices)


def _strict(text: str, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(text, fmt)
    except ValueError:
        return None


def as_floats(arr: pa.Array, text: pa.Array) -> pa.Array:
    """Numbers; decimal commas and spaces between thousands accepted; null where not a number."""
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        return arr.cast(pa.float64())
    cleaned = pc.replace_substring(
        pc.replace_substring_regex(text, r"[\s\x{00a0}\x{202f}]", ""), ",", "."
    )
    ok = pc.match_substring_regex(cleaned, NUMBER)
    good = pc.if_else(ok, cleaned, pa.scalar(None, pa.string()))
    return good.cast(pa.float64())


def as_bools(arr: pa.Array, text: pa.Array) -> pa.Array:
    """Booleans from ``true/false``, ``1/0``, ``да/нет`` and the like; null otherwise."""
    if pa.types.is_boolean(arr.type):
        return arr
    words = pa.array(TRUE_WORDS + FALSE_WORDS, pa.string())
    idx = pc.index_in(pc.utf8_lower(text), value_set=words)
    return pc.less(idx, len(TRUE_WORDS))


def _lookup(text: pa.Array, table: Mapping[str, str]) -> pa.Array:
    idx = pc.index_in(text, value_set=pa.array(list(table), pa.string()))
    return pa.array(list(table.values()), pa.string()).take(idx)


def _count(counter: Counter[tuple[str, str]], column: str, values: pa.Array) -> None:
    for item in pc.value_counts(values.drop_null()).to_pylist():
        counter[column, str(item["values"])] += int(item["counts"])


def generated_ids(extract: Extract, label: str, lines: np.ndarray) -> pa.Array:
    """Stable ids ``NAME:HASH:LINE`` for rows of an extract without ids.

    ``HASH`` names the file (or query) of the extract, so ids stay the same on every run over
    the same extract and differ between files.
    """
    digest = hashlib.blake2b(f"{extract.name}\0{label}".encode(), digest_size=4).hexdigest()
    return pc.binary_join_element_wise(
        f"{extract.name}:{digest}:", pa.array(lines).cast(pa.string()), ""
    )


def convert(
    chunk: Chunk,
    extract: Extract,
    *,
    part: int,
    label: str,
    event_types: Mapping[str, EventType],
) -> Converted:
    """Convert one chunk of an extract into record rows and rejects.

    Parameters
    ----------
    chunk : Chunk
        Rows as read, under record column names.
    extract : Extract
        Its mapping.
    part, label : int, str
        Index and name of the file (or query) the rows came from.
    event_types : mapping of str to EventType
        The known event types.
    """
    n = chunk.table.num_rows
    rejects = _Rejects(n, part, chunk.lines)
    unmapped: Counter[tuple[str, str]] = Counter()
    table = TABLES[extract.table]
    out: dict[str, pa.Array] = {}
    texts: dict[str, pa.Array] = {}
    for col in table.columns:
        if extract.table == "events" and col.name == "source":
            out[col.name] = pa.repeat(pa.scalar(extract.source, pa.string()), n)
            continue
        if col.name not in extract.columns:
            out[col.name] = pa.nulls(n, pa.string() if col.kind == "string" else pa.float64())
            continue
        raw = chunk.table.column(col.name).combine_chunks()
        text = as_text(raw)
        texts[col.name] = text
        missing = ~_mask(pc.is_valid(text))
        if col.required:
            rejects.add(missing, col.name, text, "missing value")
        if col.kind == "date":
            value = as_dates(raw, text, extract.date_format)
            rejects.add(~missing & ~_mask(pc.is_valid(value)), col.name, text, "unparsable date")
        elif col.kind == "float":
            value = as_floats(raw, text)
            rejects.add(~missing & ~_mask(pc.is_valid(value)), col.name, text, "not a number")
        elif col.kind == "bool":
            value = as_bools(raw, text)
            rejects.add(~missing & ~_mask(pc.is_valid(value)), col.name, text, "not a boolean")
        elif extract.table == "events" and col.name == "event_type":
            value = _lookup(text, extract.codes) if extract.codes else text
            known = pc.is_in(value, value_set=pa.array(list(event_types), pa.string()))
            bad = ~missing & ~_mask(known)
            if extract.codes:
                rejects.add(bad, col.name, text, "unmapped code")
            else:
                rejects.add(bad, col.name, text, "unknown event type")
            _count(unmapped, col.name, text.filter(pa.array(bad)))
        elif col.name in extract.values:
            value = _lookup(text, extract.values[col.name])
            bad = ~missing & ~_mask(pc.is_valid(value))
            rejects.add(bad, col.name, text, "unmapped value")
            _count(unmapped, col.name, text.filter(pa.array(bad)))
        else:
            value = text
            if col.codes is not None:
                ok = pc.is_in(value, value_set=pa.array(col.codes, pa.string()))
                bad = ~missing & ~_mask(ok)
                rejects.add(bad, col.name, text, "unknown code")
                _count(unmapped, col.name, text.filter(pa.array(bad)))
        out[col.name] = value
    if extract.table == "events":
        _event_rules(out, texts, extract, event_types, rejects)
        if "event_id" not in extract.columns:
            out["event_id"] = generated_ids(extract, label, chunk.lines)
    keep = pa.array(~rejects.rejected)
    columns = {c.name: _typed(out[c.name], c.kind) for c in table.columns}
    columns["_part"] = pa.array(np.full(n, part, dtype=np.int32))
    columns["_line"] = pa.array(chunk.lines)
    return Converted(pa.table(columns).filter(keep), rejects.table(), unmapped)


def _typed(arr: pa.Array, kind: str) -> pa.Array:
    types = {"string": pa.string(), "date": pa.timestamp("s"), "float": pa.float64()}
    return arr.cast(types.get(kind, pa.bool_()))


def _event_rules(
    out: dict[str, pa.Array],
    texts: dict[str, pa.Array],
    extract: Extract,
    event_types: Mapping[str, EventType],
    rejects: _Rejects,
) -> None:
    """Rules that tie columns of an event: its type's source and unit, and its value."""
    names = list(event_types)
    idx = pc.index_in(out["event_type"], value_set=pa.array(names, pa.string()))
    idx_np = np.asarray(idx.fill_null(-1).to_numpy(zero_copy_only=False))
    known = idx_np >= 0
    sources = np.array([event_types[t].source for t in names] + [""], dtype=object)
    other = known & (sources[idx_np] != extract.source)
    rejects.add(other, "event_type", texts["event_type"], "event type of another source")
    value = out["value"].cast(pa.float64())
    v = np.asarray(value.fill_null(np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)
    text = texts.get("value", pa.nulls(len(v), pa.string()))
    needs = np.array([event_types[t].unit != "count" for t in names] + [False])
    rejects.add(
        known & needs[idx_np] & np.isnan(v), "value", text, "no value but its type needs one"
    )
    with np.errstate(invalid="ignore"):
        rejects.add(v < 0, "value", text, "negative value")
    rejects.add(np.isinf(v), "value", text, "infinite value")
