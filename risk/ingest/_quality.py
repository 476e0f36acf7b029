"""The data-quality report of an ingest: rows per source × district × month, and the feed gaps.

A missing feed must never pass for "low risk": a family with no police records because the police
extract stopped arriving looks exactly like a family the police never met. :func:`feed_gaps` names
such months so that the ingest report, and the scoring command for its lookback, can warn.

The report is HTML with matplotlib PNGs embedded as base64: matplotlib is already a dependency,
a PNG heatmap is tens of kilobytes, and the page needs no network when it is opened (Plotly's
inline script would add megabytes to every page; its CDN script needs the network).
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Months of history that set what a source normally sends.
GAP_WINDOW = 6
#: A source normally reports in a district when its trailing median is at least this many rows.
GAP_MIN_EXPECTED = 20.0
#: Fewer rows than this share of the trailing median is a drop.
GAP_DROP_RATIO = 0.5
GAP_RULE = (
    f"A source normally reports in a district for a month when the median of its monthly row "
    f"counts there over the {GAP_WINDOW} preceding months (months without rows count as 0) is "
    f"at least {GAP_MIN_EXPECTED:g}. In such a month it is silent when it sent no rows, and it "
    f"dropped when it sent fewer than {GAP_DROP_RATIO:.0%} of that median. Months with fewer "
    f"than {GAP_WINDOW} months of history before them are not judged."
)
GAP_COLUMNS = ("source", "district", "month", "expected", "observed", "kind")


def _month_index(dates: np.ndarray) -> np.ndarray:
    """Months since 1970-01 (Arrow's year and month: numpy's cast to months is slow)."""
    arr = pa.array(np.asarray(dates, dtype="datetime64[s]"), pa.timestamp("s"))
    year = np.asarray(pc.year(arr).to_numpy(zero_copy_only=False), dtype=np.int64)
    month = np.asarray(pc.month(arr).to_numpy(zero_copy_only=False), dtype=np.int64)
    return (year - 1970) * 12 + month - 1


def _strings(series: pd.Series) -> pa.Array:
    arr = pa.array(series, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    return arr.cast(pa.string()) if arr.type != pa.string() else arr


@dataclass(frozen=True)
class MonthlyCounts:
    """Rows per source × district × month.

    Attributes
    ----------
    cube : ndarray of int64, shape (sources, districts, months)
    sources, districts : list of str
        Sorted labels of the first two axes.
    axis : ndarray of int64
        Months since 1970-01 of the last axis (consecutive).
    """

    cube: np.ndarray
    sources: list[str]
    districts: list[str]
    axis: np.ndarray


def monthly_counts(
    events: pd.DataFrame,
    families: pd.DataFrame,
    *,
    months: Sequence[Any] | None = None,
    window: int = GAP_WINDOW,
) -> MonthlyCounts:
    """Count rows per source × district × month (events of unknown families are left out).

    The month axis spans the events and, when given, ``months`` with ``window`` months before.
    """
    fam_ids = _strings(families["family_id"])
    district_codes, district_labels = pd.factorize(families["district"], sort=True)
    fam = pc.index_in(_strings(events["family_id"]), value_set=fam_ids)
    fam_np = np.asarray(fam.fill_null(-1).to_numpy(zero_copy_only=False))
    known = fam_np >= 0
    # Six sources over millions of rows: Arrow's hash encoding, then the labels sorted.
    encoded = pc.dictionary_encode(_strings(events["source"]))
    labels = [str(v) for v in encoded.dictionary.to_pylist()]
    order = np.argsort(labels)
    rank = np.empty(len(labels), dtype=np.int64)
    rank[order] = np.arange(len(labels))
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    source_codes = rank[codes] if len(labels) else codes
    sources = [labels[i] for i in order]
    districts = [str(d) for d in district_labels]
    month = _month_index(events["event_date"].to_numpy())
    wanted = _month_index(np.array([pd.Timestamp(m) for m in months or []], dtype="datetime64[s]"))
    candidates = np.concatenate([month[known], wanted, wanted - window])
    if len(candidates) == 0:
        return MonthlyCounts(np.zeros((0, 0, 0), np.int64), [], [], np.array([], np.int64))
    first, last = int(candidates.min()), int(candidates.max())
    n_s, n_d, n_m = len(sources), len(districts), last - first + 1
    key = (source_codes[known] * n_d + district_codes[fam_np[known]]) * n_m + (month[known] - first)
    cube = np.bincount(key, minlength=n_s * n_d * n_m).reshape(n_s, n_d, n_m)
    return MonthlyCounts(cube, sources, districts, np.arange(first, last + 1, dtype=np.int64))


def feed_gaps(
    events: pd.DataFrame,
    families: pd.DataFrame,
    *,
    months: Sequence[Any] | None = None,
    window: int = GAP_WINDOW,
    min_expected: float = GAP_MIN_EXPECTED,
    drop_ratio: float = GAP_DROP_RATIO,
) -> pd.DataFrame:
    """Months where a source went silent, or dropped by more than half, in a district.

    The rule (:data:`GAP_RULE`): a source *normally reports* in a district for a month when the
    median of its monthly row counts there over the ``window`` preceding months (months without
    rows count as 0) is at least ``min_expected``. In such a month it is ``silent`` when it sent
    no rows and it ``drop``-ped when it sent fewer than ``drop_ratio`` × that median. Months with
    fewer than ``window`` months of history are not judged.

    Parameters
    ----------
    events, families : pandas.DataFrame
        Record tables (``source``, ``family_id``, ``event_date``; ``family_id``, ``district``).
    months : sequence of date-like, optional
        Months to judge (any day in the month); default every month of the events that has
        ``window`` months of history. Pass only complete months: a month cut by the extraction
        date looks like a drop.
    window, min_expected, drop_ratio
        The rule's parameters.

    Returns
    -------
    pandas.DataFrame
        Columns ``source, district, month`` (first day), ``expected`` (the median),
        ``observed`` (rows), ``kind`` (``silent`` or ``drop``), sorted by month, source, district.

    Examples
    --------
    >>> import pandas as pd
    >>> fam = pd.DataFrame({"family_id": ["f1"], "district": ["a"]})
    >>> dates = pd.date_range("2024-01-01", "2024-07-31", freq="D")
    >>> ev = pd.DataFrame({"family_id": "f1", "source": "police", "event_date": dates})
    >>> ev = ev[ev.event_date.dt.month != 7]
    >>> feed_gaps(ev, fam, months=["2024-07-01"])[["source", "month", "observed", "kind"]]
       source      month  observed    kind
    0  police 2024-07-01         0  silent
    """
    counts = monthly_counts(events, families, months=months, window=window)
    return gaps_of(
        counts, months=months, window=window, min_expected=min_expected, drop_ratio=drop_ratio
    )


def gaps_of(
    counts: MonthlyCounts,
    *,
    months: Sequence[Any] | None = None,
    window: int = GAP_WINDOW,
    min_expected: float = GAP_MIN_EXPECTED,
    drop_ratio: float = GAP_DROP_RATIO,
) -> pd.DataFrame:
    """Apply the gap rule to counts already made (see :func:`feed_gaps`)."""
    cube, sources, districts, axis = counts.cube, counts.sources, counts.districts, counts.axis
    judged = (
        axis[window:]
        if months is None
        else _month_index(np.array([pd.Timestamp(m) for m in months], dtype="datetime64[s]"))
    )
    rows = []
    for m in np.unique(judged):
        i = int(m - axis[0]) if len(axis) else -1
        if i < window or i >= len(axis):
            continue
        expected = np.median(cube[:, :, i - window : i], axis=2)
        observed = cube[:, :, i]
        normal = expected >= min_expected
        silent = normal & (observed == 0)
        drop = normal & (observed > 0) & (observed < drop_ratio * expected)
        for kind, mask in (("silent", silent), ("drop", drop)):
            for s, d in zip(*np.nonzero(mask), strict=True):
                rows.append(
                    (
                        sources[s],
                        districts[d],
                        pd.Timestamp(np.datetime64(int(m), "M")),
                        float(expected[s, d]),
                        int(observed[s, d]),
                        kind,
                    )
                )
    frame = pd.DataFrame(rows, columns=list(GAP_COLUMNS))
    frame["month"] = pd.to_datetime(frame["month"]).astype("datetime64[s]")
    frame["observed"] = frame["observed"].astype(np.int64)
    frame["expected"] = frame["expected"].astype(np.float64)
    return frame.sort_values(["month", "source", "district"], ignore_index=True)


def complete_months(first: pd.Timestamp, extraction_date: pd.Timestamp) -> list[pd.Timestamp]:
    """Months from ``first`` through the last month the extraction date covers completely."""
    end = extraction_date.normalize()
    last = end.to_period("M") if end == end + pd.offsets.MonthEnd(0) else end.to_period("M") - 1
    return [p.to_timestamp() for p in pd.period_range(first.to_period("M"), last, freq="M")]


def counts_table(counts: MonthlyCounts) -> list[dict]:
    """Return the non-zero cells of the counts as ``{source, district, month, rows}`` records."""
    cube, sources, districts, axis = counts.cube, counts.sources, counts.districts, counts.axis
    out = []
    for s, d, m in zip(*np.nonzero(cube), strict=True):
        out.append(
            {
                "source": sources[s],
                "district": districts[d],
                "month": str(np.datetime64(int(axis[m]), "M")),
                "rows": int(cube[s, d, m]),
            }
        )
    return out


def write_json(path: Path, summary: dict) -> None:
    """Write the summary as UTF-8 JSON."""
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _heatmaps_png(
    cube: np.ndarray,
    sources: list[str],
    districts: list[str],
    axis: np.ndarray,
    marks: dict[str, list[tuple[int, int]]],
) -> str:
    """Return one PNG (base64) with a district × month heatmap per source, gaps as red crosses."""
    from matplotlib.figure import Figure

    panel = 0.6 + 0.16 * max(len(districts), 1)
    fig = Figure(figsize=(11, panel * max(len(sources), 1) + 0.4))
    # One figure and a fixed layout: tight_layout per panel costs seconds for a few hundred labels.
    fig.subplots_adjust(left=0.16, right=0.97, top=0.98, bottom=0.03, hspace=0.35)
    step = max(1, len(axis) // 12)
    ticks = list(range(0, len(axis), step))
    labels = [str(np.datetime64(int(axis[t]), "M")) for t in ticks]
    for s, source in enumerate(sources):
        ax = fig.add_subplot(len(sources), 1, s + 1)
        image = ax.imshow(cube[s], aspect="auto", cmap="viridis", interpolation="nearest")
        fig.colorbar(image, ax=ax, fraction=0.02, pad=0.01).ax.tick_params(labelsize=6)
        ax.set_yticks(range(len(districts)), districts, fontsize=6)
        ax.set_xticks(ticks, labels, fontsize=6)
        ax.set_title(f"{source}: rows per district (rows) and month (columns)", fontsize=8)
        if marks.get(source):
            d, m = zip(*marks[source], strict=True)
            ax.scatter(m, d, marker="x", color="red", s=14)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _table(rows: Sequence[dict], columns: Sequence[str]) -> str:
    if not rows:
        return "<p>None.</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def write_html(path: Path, summary: dict, counts: MonthlyCounts) -> None:
    """Write the self-contained HTML report (heatmaps as embedded PNGs, gaps marked in red)."""
    gaps = summary["gaps"]
    cube, sources, districts, axis = counts.cube, counts.sources, counts.districts, counts.axis
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Ingest quality report</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}</style></head><body>",
        "<h1>Ingest quality report</h1>",
        f"<p>Extraction date {html.escape(summary['extraction_date'])}; "
        f"{summary['rows']:,} rows read, {summary['rejected']:,} rejected "
        f"({summary['reject_rate']:.2%}).</p>",
        "<h2>Extracts</h2>",
        _table(
            [{"extract": k, **v} for k, v in summary["extracts"].items()],
            ["extract", "table", "format", "rows", "taken", "rejected"],
        ),
        "<h2>Rejects by reason</h2>",
        _table(summary["reject_reasons"], ["extract", "column", "reason", "rows"]),
        "<h2>Unmapped codes</h2>",
        _table(summary["unmapped_codes"], ["extract", "column", "value", "rows"]),
        "<h2>Feed gaps</h2>",
        f"<p>{html.escape(summary['gap_rule'])}</p>",
        _table(gaps, list(GAP_COLUMNS)),
        "<h2>Rows per source, district and month</h2>",
    ]
    month_pos = {str(np.datetime64(int(m), "M")): i for i, m in enumerate(axis)}
    marks: dict[str, list[tuple[int, int]]] = {}
    for g in gaps:
        if g["month"] in month_pos:
            marks.setdefault(g["source"], []).append(
                (districts.index(g["district"]), month_pos[g["month"]])
            )
    if sources:
        png = _heatmaps_png(cube, sources, districts, axis, marks)
        parts.append(
            f"<img alt='rows per source, district and month' src='data:image/png;base64,{png}'>"
        )
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
