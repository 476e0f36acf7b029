"""The four record tables, how they are loaded, written and validated."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features._schema import EARLIEST_DATE, EVENT_TYPES, TABLES, Column, Table

MAX_IDS_IN_MESSAGE = 5


class RecordsError(ValueError):
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

    def validate(self) -> Records:
        """Check every rule of the schema; raise :class:`RecordsError` on the first broken one.

        Nothing is modified. Returns ``self`` so that calls chain.
        """
        for name, table in TABLES.items():
            _check_columns(name, table, self.table(name))
        _check_values(self)
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
        manifest = root / "manifest.json"
        if manifest.exists():
            try:
                extraction_date = json.loads(manifest.read_text("utf-8")).get("extraction_date")
            except json.JSONDecodeError as exc:
                raise RecordsError(
                    "manifest", "extraction_date", "unreadable_manifest", f"{manifest}: {exc}"
                ) from exc
    records = Records(
        **frames,
        extraction_date=pd.Timestamp(extraction_date or pd.Timestamp.today()).normalize(),
    )
    return records.validate() if validate else records


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    columns = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_date(col.type) or pa.types.is_timestamp(col.type):
            arr = col.to_numpy() if col.null_count == 0 else col.to_pandas().to_numpy()
            columns[name] = pd.Series(np.asarray(arr, dtype="datetime64[s]"))
        else:
            columns[name] = col.to_pandas()
    return pd.DataFrame(columns)


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


def _check_codes(frame: pd.DataFrame, table: Table, col: Column) -> None:
    assert col.codes is not None
    s = frame[col.name]
    mask = (~s.isin(col.codes) & s.notna()).to_numpy()
    if mask.any():
        bad = sorted({str(v) for v in s[mask].unique()[:MAX_IDS_IN_MESSAGE]})
        raise _fail(
            frame,
            table,
            col.name,
            "unknown_code",
            f"have unknown codes {bad}; allowed: {', '.join(col.codes)}",
            mask,
        )


def _check_values(rec: Records) -> None:
    extraction = rec.extraction_date.to_datetime64()
    earliest = np.datetime64(EARLIEST_DATE)
    for name, table in TABLES.items():
        frame = rec.table(name)
        if table.id_column:
            mask = frame[table.id_column].duplicated(keep=False).to_numpy()
            if mask.any():
                raise _fail(frame, table, table.id_column, "duplicate_id", "share an id", mask)
        for col in table.columns:
            if col.codes is not None:
                _check_codes(frame, table, col)
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
            mask = (~frame["family_id"].isin(rec.families["family_id"])).to_numpy()
            if mask.any():
                raise _fail(
                    frame, table, "family_id", "unknown_family", "refer to no known family", mask
                )
    _check_events(rec)


def _check_events(rec: Records) -> None:
    table = TABLES["events"]
    ev = rec.events
    types = ev["event_type"].astype(str).to_numpy()
    expected_source = pd.Series({k: e.source for k, e in EVENT_TYPES.items()})
    mask = ev["source"].astype(str).to_numpy() != expected_source.reindex(types).to_numpy()
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
    mask = ~np.isfinite(value) & ~np.isnan(value)
    if mask.any():
        raise _fail(ev, table, "value", "infinite_value", "have infinite values", mask)
    needs_value = np.array([EVENT_TYPES[t].unit != "count" for t in EVENT_TYPES])
    needs = pd.Series(needs_value, index=list(EVENT_TYPES)).reindex(types).to_numpy(dtype=bool)
    mask = needs & np.isnan(value)
    if mask.any():
        raise _fail(
            ev, table, "value", "null_in_required", "have no value but their type needs one", mask
        )
    members = rec.members.set_index("member_id")["family_id"]
    has_member = ev["member_id"].notna().to_numpy()
    if has_member.any():
        owner = members.reindex(ev["member_id"].to_numpy()[has_member]).to_numpy()
        bad = np.zeros(len(ev), dtype=bool)
        bad[has_member] = pd.isna(owner)
        if bad.any():
            raise _fail(ev, table, "member_id", "unknown_member", "refer to no known member", bad)
        bad[has_member] = owner != ev["family_id"].to_numpy()[has_member]
        if bad.any():
            raise _fail(
                ev,
                table,
                "member_id",
                "member_of_other_family",
                "refer to a member of another family",
                bad,
            )
