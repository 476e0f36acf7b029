"""The ingest: read every extract of a mapping, convert, check, report and write the records."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features import EVENT_TYPES, TABLES, EventType, InputError, Records, Vocabulary
from risk.ingest._convert import REJECT_SCHEMA, Converted, convert
from risk.ingest._mapping import Extract, load_mapping
from risk.ingest._quality import (
    GAP_RULE,
    GAP_WINDOW,
    complete_months,
    counts_table,
    gaps_of,
    monthly_counts,
    write_html,
    write_json,
)
from risk.ingest._readers import Part, parts, read_part

T = TypeVar("T")
Progress = Callable[..., Iterable[Any]]
TOP_REASONS = 5


class RejectRateError(InputError):
    """More rows were rejected than ``max_reject_rate`` allows."""


@dataclass(frozen=True)
class IngestResult:
    """What an ingest did.

    Attributes
    ----------
    out : Path or None
        The records folder (None when the run failed on its reject rate).
    report_dir : Path
        Folder of ``rejects.csv``, ``quality.json`` and ``quality.html``.
    summary : dict
        The content of ``quality.json``.
    gaps : pandas.DataFrame
        The feed gaps (see :func:`risk.ingest.feed_gaps`).
    """

    out: Path | None
    report_dir: Path
    summary: dict
    gaps: pd.DataFrame = field(repr=False)


def _no_progress(iterable: Iterable[T], **_: Any) -> Iterable[T]:
    return iterable


def ingest(
    mapping: str | Path,
    out: str | Path,
    *,
    extraction_date: str | pd.Timestamp | None = None,
    max_reject_rate: float = 0.0,
    report_dir: str | Path | None = None,
    event_types: Mapping[str, EventType] | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Turn agency extracts into a validated records folder.

    Parameters
    ----------
    mapping : path-like
        The mapping file (``docs/ingest.md``).
    out : path-like
        The records folder to write (as ``risk synth`` writes it); written atomically, and only
        when the run succeeds.
    extraction_date : date-like, optional
        Default: the latest date found in the extracts. Rows dated after it are rejected.
    max_reject_rate : float, default 0
        Share of rows that may be rejected before the run fails.
    report_dir : path-like, optional
        Where ``rejects.csv``, ``quality.json`` and ``quality.html`` go (also when the run fails
        on its reject rate); default the folder ``OUT-report`` beside ``out``.
    event_types : mapping of str to EventType, optional
        The known event types; default :data:`features.EVENT_TYPES`.
    progress : callable, optional
        ``progress(iterable, desc=..., total=...)`` wrapping the files as they are read.

    Raises
    ------
    MappingError
        The mapping or an extract's shape is wrong; nothing is written.
    RecordsError
        The records taken break a rule of the whole set (e.g. duplicate ids); nothing is written.
    RejectRateError
        More rows were rejected than allowed; only the report folder is written.
    """
    types = EVENT_TYPES if event_types is None else event_types
    wrap = progress or _no_progress
    given = _date_argument(extraction_date)
    spec = load_mapping(mapping, event_types=types)
    out = Path(out)
    reports = Path(report_dir) if report_dir is not None else out.parent / f"{out.name}-report"
    all_parts: list[Part] = [p for ex in spec.extracts for p in parts(ex, spec.path)]
    tables: dict[str, list[pa.Table]] = {name: [] for name in TABLES}
    rejects: list[pa.Table] = []
    unmapped: dict[str, Counter[tuple[str, str]]] = {ex.name: Counter() for ex in spec.extracts}
    rows = np.zeros(len(all_parts), dtype=np.int64)
    for i, part in enumerate(wrap(all_parts, desc="reading extracts", total=len(all_parts))):
        for chunk in read_part(part):
            rows[i] += chunk.table.num_rows
            done: Converted = convert(
                chunk, part.extract, part=i, label=part.label, event_types=types
            )
            tables[part.extract.table].append(done.table)
            rejects.append(done.rejects)
            unmapped[part.extract.name].update(done.unmapped)
    merged = {name: _concat(name, frames) for name, frames in tables.items()}
    del tables
    if given is not None:
        # Rows after the date go first: a family dropped for it takes its members along.
        date = given
        merged, late = _after(merged, date)
        rejects.extend(late)
    merged, orphans = _references(merged)
    rejects.extend(orphans)
    if given is None:
        date = _latest_date(merged)
    frames = {}
    for name in list(merged):
        # One table at a time, its Arrow copy released as soon as pandas holds it: the peak
        # memory of a million-family ingest is here.
        frames[name] = _to_pandas(merged.pop(name))
    records = Records(**frames, extraction_date=date)
    # A region's own types are validated as its vocabulary, the same rules as load_records.
    records.validate(Vocabulary(tuple(e for n, e in types.items() if n not in EVENT_TYPES)))
    all_rejects = pa.concat_tables(rejects) if rejects else REJECT_SCHEMA.empty_table()
    # The first GAP_WINDOW months have no history to be judged against.
    months = (
        complete_months(records.events["event_date"].min(), date)[GAP_WINDOW:]
        if len(records.events)
        else []
    )
    counts = monthly_counts(records.events, records.families, months=months)
    gaps = gaps_of(counts, months=months)
    summary = _summary(spec.extracts, all_parts, rows, all_rejects, unmapped, gaps, date)
    summary["rows_per_source_district_month"] = counts_table(counts)
    total = int(rows.sum())
    rate = summary["reject_rate"]
    reports.mkdir(parents=True, exist_ok=True)
    _write_rejects(reports / "rejects.csv", all_rejects, all_parts)
    write_json(reports / "quality.json", summary)
    write_html(reports / "quality.html", summary, counts)
    if rate > max_reject_rate:
        top = "; ".join(
            f"{r['reason']} in {r['extract']}.{r['column']}: {r['rows']:,}"
            for r in summary["reject_reasons"][:TOP_REASONS]
        )
        raise RejectRateError(
            f"{summary['rejected']:,} of {total:,} rows rejected ({rate:.2%}), more than "
            f"--max-reject-rate {max_reject_rate:g}: {top}. See {reports / 'rejects.csv'}; "
            f"nothing was written to {out}"
        )
    manifest = {
        "generator": "family-risk ingest",
        "mapping": str(spec.path),
        "extraction_date": date.date().isoformat(),
        "sources": summary["extracts"],
        "rejected": summary["rejected"],
        "report": str(reports),
    }
    records.to_parquet(out, manifest=manifest)
    return IngestResult(out, reports, summary, gaps)


def _date_argument(value: str | pd.Timestamp | None) -> pd.Timestamp | None:
    if value is None:
        return None
    message = f"extraction date {value!r} is not a date YYYY-MM-DD"
    try:
        # Strings must be ISO: pandas would read 01.02.2025 month first.
        date = pd.Timestamp(dt.date.fromisoformat(value) if isinstance(value, str) else value)
    except ValueError:
        raise InputError(message) from None
    if pd.isna(date):
        raise InputError(message)
    return date.normalize()


def _concat(name: str, frames: list[pa.Table]) -> pa.Table:
    if frames:
        return pa.concat_tables(frames)
    types = {
        "string": pa.string(),
        "date": pa.timestamp("s"),
        "float": pa.float64(),
        "bool": pa.bool_(),
    }
    fields = [(c.name, types[c.kind]) for c in TABLES[name].columns]
    return pa.schema([*fields, ("_part", pa.int32()), ("_line", pa.int64())]).empty_table()


def _latest_date(tables: Mapping[str, pa.Table]) -> pd.Timestamp:
    latest = [
        pc.max(t.column(c.name)).as_py()
        for name, t in tables.items()
        for c in TABLES[name].columns
        if c.kind == "date" and t.num_rows
    ]
    found = [d for d in latest if d is not None]
    if not found:
        raise InputError("no dated row was taken from the extracts; pass --extraction-date")
    return pd.Timestamp(max(found)).normalize()


def _reject(table: pa.Table, mask: np.ndarray, column: str, reason: str) -> pa.Table:
    idx = pa.array(np.flatnonzero(mask))
    return pa.table(
        {
            "_part": table.column("_part").take(idx),
            "_line": table.column("_line").take(idx),
            "column": pa.repeat(pa.scalar(column, pa.string()), len(idx)),
            "value": table.column(column).take(idx).cast(pa.string()),
            "reason": pa.repeat(pa.scalar(reason, pa.string()), len(idx)),
        },
        schema=REJECT_SCHEMA,
    )


def _split(
    table: pa.Table, checks: Iterator[tuple[np.ndarray, str, str]]
) -> tuple[pa.Table, list[pa.Table]]:
    """Drop the rows each check flags (first check wins), returning the rejects."""
    taken = np.zeros(table.num_rows, dtype=bool)
    out = []
    for mask, column, reason in checks:
        new = mask & ~taken
        if new.any():
            out.append(_reject(table, new, column, reason))
            taken |= new
    return (table.filter(pa.array(~taken)) if taken.any() else table), out


def _np(arr: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return (
        np.asarray(arr.to_numpy(), dtype=bool)
        if arr.null_count == 0
        else np.asarray(arr.fill_null(False).to_numpy(), dtype=bool)
    )


def _after(
    tables: dict[str, pa.Table], date: pd.Timestamp
) -> tuple[dict[str, pa.Table], list[pa.Table]]:
    """Reject rows dated after the extraction date."""
    limit = pa.scalar(date.to_pydatetime(), pa.timestamp("s"))
    out, rejects = {}, []
    for name, table in tables.items():
        dates = [c.name for c in TABLES[name].columns if c.kind == "date"]
        checks = (
            (_np(pc.greater(table.column(c), limit)), c, "after the extraction date") for c in dates
        )
        out[name], found = _split(table, checks)
        rejects.extend(found)
    return out, rejects


def _references(tables: dict[str, pa.Table]) -> tuple[dict[str, pa.Table], list[pa.Table]]:
    """Reject members, events and outcomes of unknown families, and events of unknown members."""
    families = tables["families"].column("family_id").combine_chunks()
    out = dict(tables)
    rejects: list[pa.Table] = []
    for name in ("members", "outcomes"):
        t = tables[name]
        known = _np(pc.is_in(t.column("family_id"), value_set=families))
        out[name], found = _split(t, iter([(~known, "family_id", "unknown family")]))
        rejects.extend(found)
    ev = tables["events"]
    members = out["members"]
    member_ids = members.column("member_id").combine_chunks()
    known_family = _np(pc.is_in(ev.column("family_id"), value_set=families))
    has_member = _np(pc.is_valid(ev.column("member_id")))
    idx = pc.index_in(ev.column("member_id"), value_set=member_ids)
    unknown_member = has_member & ~_np(pc.is_valid(idx))
    owner = members.column("family_id").combine_chunks().take(idx)
    other = has_member & ~unknown_member & ~_np(pc.equal(owner, ev.column("family_id")))
    out["events"], found = _split(
        ev,
        iter(
            [
                (~known_family, "family_id", "unknown family"),
                (unknown_member, "member_id", "unknown member"),
                (other, "member_id", "member of another family"),
            ]
        ),
    )
    rejects.extend(found)
    return out, rejects


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    columns = {}
    for name in table.column_names:
        if name.startswith("_"):
            continue
        col = table.column(name)
        if pa.types.is_timestamp(col.type):
            arr = col.to_numpy() if col.null_count == 0 else col.to_pandas().to_numpy()
            columns[name] = pd.Series(np.asarray(arr, dtype="datetime64[s]"), copy=False)
        else:
            columns[name] = col.to_pandas()
    return pd.DataFrame(columns, copy=False)


def _summary(
    extracts: tuple[Extract, ...],
    all_parts: list[Part],
    rows: np.ndarray,
    rejects: pa.Table,
    unmapped: dict[str, Counter[tuple[str, str]]],
    gaps: pd.DataFrame,
    date: pd.Timestamp,
) -> dict:
    part_rejects = np.bincount(
        np.asarray(rejects.column("_part").to_numpy(), dtype=np.int64), minlength=len(all_parts)
    )
    per_extract: dict[str, dict] = {}
    for i, part in enumerate(all_parts):
        ex = part.extract
        entry = per_extract.setdefault(
            ex.name,
            {"table": ex.table, "format": ex.format, "source": ex.source, "files": [],
             "rows": 0, "taken": 0, "rejected": 0},
        )  # fmt: skip
        entry["files"].append(
            {"file": part.label, "rows": int(rows[i]), "rejected": int(part_rejects[i])}
        )
        entry["rows"] += int(rows[i])
        entry["rejected"] += int(part_rejects[i])
        entry["taken"] = entry["rows"] - entry["rejected"]
    grouped = rejects.group_by(["_part", "column", "reason"]).aggregate([("_line", "count")])
    reasons: Counter[tuple[str, str, str]] = Counter()
    for part, column, reason, n in zip(
        grouped.column("_part").to_pylist(),
        grouped.column("column").to_pylist(),
        grouped.column("reason").to_pylist(),
        grouped.column("_line_count").to_pylist(),
        strict=True,
    ):
        reasons[all_parts[part].extract.name, column, reason] += int(n)
    total = int(rows.sum())
    rejected = int(rejects.num_rows)
    gap_records = [
        {**g, "month": pd.Timestamp(g["month"]).strftime("%Y-%m")}
        for g in gaps.to_dict(orient="records")
    ]
    return {
        "extraction_date": date.date().isoformat(),
        "rows": total,
        "rejected": rejected,
        "reject_rate": rejected / total if total else 0.0,
        "extracts": per_extract,
        "reject_reasons": [
            {"extract": e, "column": c, "reason": r, "rows": n}
            for (e, c, r), n in reasons.most_common()
        ],
        "unmapped_codes": [
            {"extract": e, "column": c, "value": v, "rows": n}
            for e, counter in unmapped.items()
            for (c, v), n in counter.most_common()
        ],
        "gap_rule": GAP_RULE,
        "gaps": gap_records,
    }


def _write_rejects(path: Path, rejects: pa.Table, all_parts: list[Part]) -> None:
    """Write the rejects as UTF-8 CSV sorted by extract, file and line."""
    import pyarrow.csv as pacsv

    t = rejects.sort_by([("_part", "ascending"), ("_line", "ascending")])
    part = t.column("_part")
    names = pa.array([p.extract.name for p in all_parts], pa.string())
    labels = pa.array([p.label for p in all_parts], pa.string())
    table = pa.table(
        {
            "extract": names.take(part),
            "file": labels.take(part),
            "line": t.column("_line"),
            "column": t.column("column"),
            "value": t.column("value"),
            "reason": t.column("reason"),
        }
    )
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
