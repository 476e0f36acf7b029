"""The four record tables, how they are loaded, written and validated."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from features._errors import InputError
from features._ids import has_duplicates
from features._schema import EARLIEST_DATE, SOURCES, TABLES, Column, Table
from features._vocabulary import Vocabulary

MAX_IDS_IN_MESSAGE = 5
#: Threads of validation's hash-table passes; there are about ten, the largest take most time.
_MAX_THREADS = 4


class RecordsError(InputError):
    """Records break a rule of the schema.

    The message names the table, the column, the rule and up to five offending ids, e.g.
    ``events.event_date: 3 rows are after the extraction date 2025-12-31 [future_date]
    (event_id e17, e902, e4410)``.

    Attributes
    ----------
    table, column, rule : str
        Where and what.
    ids : tuple of str
        Up to five offending ids (or row numbers where a table has no id).
    n_rows : int
        How many rows break the rule.
    """

    def __init__(
        self,
        table: str,
        column: str,
        rule: str,
        detail: str,
        ids: Iterable[object] = (),
        n_rows: int = 0,
        id_label: str | None = None,
    ) -> None:
        self.table = table
        self.column = column
        self.rule = rule
        self.ids = tuple(str(i) for i in ids)[:MAX_IDS_IN_MESSAGE]
        self.n_rows = n_rows
        where = f"{table}.{column}" if column else table
        message = f"{where}: {detail} [{rule}]"
        if self.ids:
            label = id_label or "row"
            more = f", … {n_rows - len(self.ids)} more" if n_rows > len(self.ids) else ""
            message += f" ({label} {', '.join(self.ids)}{more})"
        super().__init__(message)


@dataclass(frozen=True)
class Records:
    """The record tables of one extraction.

    Attributes
    ----------
    families, members, events, outcomes : pandas.DataFrame
        The four tables of ``docs/records.md``.
    extraction_date : pandas.Timestamp
        The date the data were extracted; no record may be dated after it.

    Examples
    --------
    >>> import pandas as pd
    >>> from features import Records
    >>> recs = Records.empty(extraction_date="2025-12-31")
    >>> recs.validate().n_families
    0
    """

    families: pd.DataFrame
    members: pd.DataFrame
    events: pd.DataFrame
    outcomes: pd.DataFrame
    extraction_date: pd.Timestamp = field(default_factory=lambda: pd.Timestamp.today().normalize())

    def __post_init__(self) -> None:
        object.__setattr__(self, "extraction_date", pd.Timestamp(self.extraction_date).normalize())

    @classmethod
    def empty(cls, extraction_date: str | pd.Timestamp = "2025-12-31") -> Records:
        """Return records with no rows and the right columns."""
        frames = {name: _empty_frame(table) for name, table in TABLES.items()}
        return cls(**frames, extraction_date=pd.Timestamp(extraction_date))

    @property
    def n_families(self) -> int:
        """Number of families."""
        return len(self.families)

    def table(self, name: str) -> pd.DataFrame:
        """Return the table called ``name``."""
        if name not in TABLES:
            raise KeyError(f"no table {name!r}; tables are {', '.join(TABLES)}")
        frame: pd.DataFrame = getattr(self, name)
        return frame

    def validate(self, vocabulary: Vocabulary | None = None) -> Records:
        """Check every rule of the schema; raise :class:`RecordsError` on the first broken one.

        Nothing is modified. Returns ``self`` so that calls chain.

        Parameters
        ----------
        vocabulary : Vocabulary, optional
            The event types ``events.event_type`` may hold (``features.load_vocabulary``);
            default the built-in vocabulary. Any other type is an error naming the rows.
        """
        vocab = vocabulary or Vocabulary.builtin()
        for name, table in TABLES.items():
            _check_columns(name, table, self.table(name))
        _check_values(self, vocab)
        return self

    def replace(self, **tables: pd.DataFrame) -> Records:
        """Return a copy with some tables replaced."""
        current = {name: self.table(name) for name in TABLES}
        current.update(tables)
        return Records(**current, extraction_date=self.extraction_date)

    def to_parquet(self, path: str | os.PathLike[str], *, manifest: dict | None = None) -> Path:
        """Write the tables (and ``manifest.json``) to a directory, atomically.

        The files are written into a temporary directory next to ``path`` and moved into place
        only when all of them were written, so a failure leaves nothing half-written.
        """
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            for name in TABLES:
                write_table(self.table(name), tmp / f"{name}.parquet")
            meta = dict(manifest or {})
            meta.setdefault("extraction_date", self.extraction_date.date().isoformat())
            (tmp / "manifest.json").write_text(
                json.dumps(meta, indent=2, ensure_ascii=False, sort_keys=False) + "\n",
                encoding="utf-8",
            )
            if out.exists():
                for name in TABLES:
                    (out / f"{name}.parquet").unlink(missing_ok=True)
                (out / "manifest.json").unlink(missing_ok=True)
            out.mkdir(exist_ok=True)
            for item in tmp.iterdir():
                os.replace(item, out / item.name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return out


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write one frame to Parquet deterministically (dates as date32, no pandas index)."""
    arrays = {}
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            arrays[col] = pa.array(s.to_numpy().astype("datetime64[D]"), type=pa.date32())
        elif pd.api.types.is_bool_dtype(s):
            arrays[col] = pa.array(s.to_numpy(dtype=bool), type=pa.bool_())
        elif pd.api.types.is_float_dtype(s):
            arrays[col] = pa.array(s.to_numpy(dtype="float64"), type=pa.float64())
        elif pd.api.types.is_integer_dtype(s):
            arrays[col] = pa.array(s.to_numpy(), type=pa.int64())
        elif isinstance(s.dtype, pd.CategoricalDtype):
            arrays[col] = pa.array(s.astype("str"), type=pa.string())
        else:
            # pandas' str dtype is Arrow-backed: no per-value Python objects, even at 30M rows.
            arrays[col] = pa.array(s.astype("str"), type=pa.string(), from_pandas=True)
    pq.write_table(pa.table(arrays), path, compression="zstd")


def load_records(
    path: str | os.PathLike[str],
    *,
    extraction_date: str | pd.Timestamp | None = None,
    validate: bool = True,
    vocabulary: Vocabulary | None = None,
) -> Records:
    """Read a directory of Parquet record tables.

    Parameters
    ----------
    path : path-like
        Directory holding ``families.parquet``, ``members.parquet``, ``events.parquet`` and
        ``outcomes.parquet`` (and optionally ``manifest.json`` with ``extraction_date``).
    extraction_date : date-like, optional
        Overrides the manifest's; defaults to today when neither is given.
    validate : bool, default True
        Run :meth:`Records.validate` before returning.
    vocabulary : Vocabulary, optional
        The event types the records may hold; default the built-in vocabulary.

    Raises
    ------
    RecordsError
        A file is missing or unreadable, or the records break a rule.

    Examples
    --------
    >>> from features import load_records
    >>> recs = load_records("data/synthetic/sample")
    >>> recs.n_families
    2000
    """
    root = Path(path)
    if not root.is_dir():
        raise RecordsError(str(root), "", "missing_directory", "no such records directory")
    frames: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        file = root / f"{name}.parquet"
        if not file.exists():
            raise RecordsError(name, "", "missing_table", f"file {file} does not exist")
        try:
            table = pq.read_table(file)
        except (OSError, pa.ArrowException) as exc:
            raise RecordsError(name, "", "unreadable_table", f"cannot read {file}: {exc}") from exc
        frames[name] = _to_pandas(table)
    if extraction_date is None:
        extraction_date = _manifest_date(root / "manifest.json")
    records = Records(
        **frames,
        extraction_date=pd.Timestamp(extraction_date or pd.Timestamp.today()).normalize(),
    )
    return records.validate(vocabulary) if validate else records


def _manifest_date(manifest: Path) -> str | None:
    """Return the manifest's ``extraction_date`` (``YYYY-MM-DD``); None without one."""
    if not manifest.exists():
        return None
    try:
        value = json.loads(manifest.read_text("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RecordsError(
            "manifest", "extraction_date", "unreadable_manifest", f"{manifest}: {exc}"
        ) from exc
    if not isinstance(value, dict):
        raise RecordsError(
            "manifest", "", "unreadable_manifest", f"{manifest}: expected a JSON object"
        )
    date = value.get("extraction_date")
    if date is None or date == "":
        return None
    try:
        parsed = pd.Timestamp(date) if isinstance(date, str) else pd.NaT
    except ValueError:
        parsed = pd.NaT
    if parsed is pd.NaT or not isinstance(date, str) or len(date) != 10:
        raise RecordsError(
            "manifest",
            "extraction_date",
            "bad_extraction_date",
            f"{manifest}: {date!r} is not a date YYYY-MM-DD",
        )
    return date


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    columns = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_dictionary(col.type):
            # Categorical ids would make every later join slow and surprising: decode them.
            col = col.cast(col.type.value_type)
        naive = pa.types.is_date(col.type) or (
            pa.types.is_timestamp(col.type) and col.type.tz is None
        )
        if naive:
            arr = col.to_numpy() if col.null_count == 0 else col.to_pandas().to_numpy()
            columns[name] = pd.Series(np.asarray(arr, dtype="datetime64[s]"), copy=False)
        else:
            columns[name] = col.to_pandas()
    return pd.DataFrame(columns, copy=False)


def _empty_frame(table: Table) -> pd.DataFrame:
    dtypes = {"string": "str", "date": "datetime64[s]", "float": "float64", "bool": "bool"}
    return pd.DataFrame({c.name: pd.Series([], dtype=dtypes[c.kind]) for c in table.columns})


def _kind_ok(series: pd.Series, kind: str) -> bool:
    dtype = series.dtype
    if kind == "string":
        return bool(
            pd.api.types.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)
            or (
                dtype == np.dtype(object)
                and series.map(lambda v: v is None or isinstance(v, str)).all()
            )
        )
    if kind == "date":
        return pd.api.types.is_datetime64_dtype(dtype) and getattr(dtype, "tz", None) is None
    if kind == "float":
        return pd.api.types.is_float_dtype(dtype) or pd.api.types.is_integer_dtype(dtype)
    if kind == "bool":
        return pd.api.types.is_bool_dtype(dtype)
    raise AssertionError(kind)


def _ids_of(frame: pd.DataFrame, table: Table, mask: np.ndarray) -> tuple[list[object], str]:
    if table.id_column and table.id_column in frame.columns:
        return list(frame.loc[mask, table.id_column].head(MAX_IDS_IN_MESSAGE)), table.id_column
    return list(np.flatnonzero(mask)[:MAX_IDS_IN_MESSAGE]), "row"


def _fail(
    frame: pd.DataFrame, table: Table, column: str, rule: str, what: str, mask: np.ndarray
) -> RecordsError:
    n = int(mask.sum())
    ids, label = _ids_of(frame, table, mask)
    noun = "row" if n == 1 else "rows"
    return RecordsError(table.name, column, rule, f"{n} {noun} {what}", ids, n, label)


def _check_columns(name: str, table: Table, frame: pd.DataFrame) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise RecordsError(name, "", "not_a_table", f"expected a DataFrame, got {type(frame)}")
    missing = [c.name for c in table.columns if c.name not in frame.columns]
    if missing:
        raise RecordsError(
            name, missing[0], "missing_column", f"required column(s) missing: {', '.join(missing)}"
        )
    for col in table.columns:
        s = frame[col.name]
        if not _kind_ok(s, col.kind):
            raise RecordsError(
                name, col.name, "mistyped_column", f"expected {col.kind}, got dtype {s.dtype}"
            )
        if col.required:
            mask = s.isna().to_numpy()
            if mask.any():
                raise _fail(frame, table, col.name, "null_in_required", "are null", mask)


def _strings(series: pd.Series) -> pa.Array | pa.ChunkedArray:
    """Return a string column as Arrow strings (zero-copy for pandas' ``str`` dtype)."""
    arr = pa.array(series, from_pandas=True)
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    return arr


def _codes(series: pd.Series, values: Iterable[object]) -> np.ndarray:
    """Position of each value of ``series`` in ``values`` (int32), ``-1`` when absent or null.

    Ids are encoded once through Arrow's hash table instead of ``isin`` over millions of Python
    strings: the codes are small integers that the later checks reuse.
    """
    value_set = (
        values
        if isinstance(values, pa.Array | pa.ChunkedArray)
        else pa.array(list(values), pa.large_string())
    )
    codes = pc.index_in(_strings(series), value_set=value_set)
    return np.asarray(codes.fill_null(-1).to_numpy(), dtype=np.int32)


def _duplicated(series: pd.Series) -> np.ndarray:
    """``series.duplicated(keep=False)`` through integer codes (no Python string objects)."""
    strings = _strings(series)
    if has_duplicates(strings) is False:
        return np.zeros(len(series), dtype=bool)
    encoded = pc.dictionary_encode(strings)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    if len(encoded.dictionary) == len(series) or len(series) == 0:
        return np.zeros(len(series), dtype=bool)
    indices = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False))
    counts = np.bincount(indices[indices >= 0], minlength=len(encoded.dictionary))
    mask = np.zeros(len(series), dtype=bool)
    valid = indices >= 0
    mask[valid] = counts[indices[valid]] > 1
    return mask


def _check_codes(
    frame: pd.DataFrame, table: Table, col: Column, allowed: tuple[str, ...], codes: np.ndarray
) -> np.ndarray:
    """Raise on codes outside ``allowed``; return the codes (positions in ``allowed``)."""
    s = frame[col.name]
    mask = (codes < 0) & s.notna().to_numpy()
    if mask.any():
        bad = sorted({str(v) for v in s[mask].unique()[:MAX_IDS_IN_MESSAGE]})
        raise _fail(
            frame,
            table,
            col.name,
            "unknown_code",
            f"have unknown codes {bad}; allowed: {', '.join(allowed)}",
            mask,
        )
    return codes


def _allowed(vocab: Vocabulary, table: str, col: Column) -> tuple[str, ...]:
    # The event types are the vocabulary's; the schema's column holds the built-in ones.
    if (table, col.name) == ("events", "event_type"):
        return vocab.names
    assert col.codes is not None
    return col.codes


def _encode_all(rec: Records, vocab: Vocabulary, pool: Executor) -> dict[tuple[str, str], Future]:
    """Start every hash-table pass of validation at once, largest tables first.

    Duplicate ids, codes and family and member lookups are independent, and Arrow and numpy
    release the GIL while they hash and sort, so they share the cores; the checks then read the
    results in their fixed order, and the first broken rule is the one reported, as before.
    """
    family_ids = _strings(rec.families["family_id"])
    jobs: dict[tuple[str, str], Future] = {}
    for name in sorted(TABLES, key=lambda n: -len(rec.table(n))):
        table, frame = TABLES[name], rec.table(name)
        if table.id_column:
            jobs[name, "duplicate"] = pool.submit(_duplicated, frame[table.id_column])
        if name != "families":
            jobs[name, "family_id"] = pool.submit(_codes, frame["family_id"], family_ids)
        if name == "events":
            members = _strings(rec.members["member_id"])
            jobs[name, "member_id"] = pool.submit(_codes, frame["member_id"], members)
        for col in table.columns:
            if col.codes is not None:
                allowed = _allowed(vocab, name, col)
                jobs[name, col.name] = pool.submit(_codes, frame[col.name], allowed)
    return jobs


def _check_values(rec: Records, vocab: Vocabulary) -> None:
    pool = ThreadPoolExecutor(max_workers=min(_MAX_THREADS, os.cpu_count() or 1))
    try:
        jobs = _encode_all(rec, vocab, pool)
        _check_in_order(rec, vocab, jobs)
    finally:
        # On a broken rule the passes still running are not waited for.
        pool.shutdown(wait=False, cancel_futures=True)


def _check_in_order(rec: Records, vocab: Vocabulary, jobs: dict[tuple[str, str], Future]) -> None:
    extraction = rec.extraction_date.to_datetime64()
    earliest = np.datetime64(EARLIEST_DATE)
    codes: dict[tuple[str, str], np.ndarray] = {}
    for name, table in TABLES.items():
        frame = rec.table(name)
        if table.id_column:
            mask = jobs[name, "duplicate"].result()
            if mask.any():
                raise _fail(frame, table, table.id_column, "duplicate_id", "share an id", mask)
        for col in table.columns:
            if col.codes is not None:
                allowed = _allowed(vocab, name, col)
                found = jobs[name, col.name].result()
                codes[name, col.name] = _check_codes(frame, table, col, allowed, found)
            if col.kind == "date":
                values = frame[col.name].to_numpy()
                mask = values > extraction
                if mask.any():
                    raise _fail(
                        frame,
                        table,
                        col.name,
                        "future_date",
                        f"are after the extraction date {rec.extraction_date.date()}",
                        mask,
                    )
                mask = values < earliest
                if mask.any():
                    raise _fail(
                        frame,
                        table,
                        col.name,
                        "date_out_of_range",
                        f"are before {EARLIEST_DATE}",
                        mask,
                    )
        if name != "families":
            family = jobs[name, "family_id"].result()
            mask = family < 0
            if mask.any():
                raise _fail(
                    frame, table, "family_id", "unknown_family", "refer to no known family", mask
                )
            codes[name, "family_id"] = family
    _check_events(rec, codes, vocab, jobs["events", "member_id"])


def _check_events(
    rec: Records, codes: dict[tuple[str, str], np.ndarray], vocab: Vocabulary, members: Future
) -> None:
    table = TABLES["events"]
    ev = rec.events
    types = codes["events", "event_type"]
    event_types = vocab.event_types.values()
    type_source = np.array([SOURCES.index(e.source) for e in event_types], dtype=np.int32)
    mask = codes["events", "source"] != type_source[types]
    if mask.any():
        raise _fail(
            ev,
            table,
            "source",
            "source_mismatch",
            "name a source other than their event type's",
            mask,
        )
    value = ev["value"].to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        mask = value < 0
    if mask.any():
        raise _fail(ev, table, "value", "negative_value", "have negative values", mask)
    mask = np.isinf(value)
    if mask.any():
        raise _fail(ev, table, "value", "infinite_value", "have infinite values", mask)
    needs_value = np.array([e.unit != "count" for e in event_types])
    mask = needs_value[types] & np.isnan(value)
    if mask.any():
        raise _fail(
            ev, table, "value", "null_in_required", "have no value but their type needs one", mask
        )
    has_member = ev["member_id"].notna().to_numpy()
    if has_member.any():
        member = members.result()
        bad = has_member & (member < 0)
        if bad.any():
            raise _fail(ev, table, "member_id", "unknown_member", "refer to no known member", bad)
        owner = codes["members", "family_id"][member]
        bad = has_member & (owner != codes["events", "family_id"])
        if bad.any():
            raise _fail(
                ev,
                table,
                "member_id",
                "member_of_other_family",
                "refer to a member of another family",
                bad,
            )
