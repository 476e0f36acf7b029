"""Interactive charts of the card and the supervisor view (Plotly, drawn in the browser).

The server only builds a figure's description (JSON); the browser draws it, so a busy office
costs the server no rendering. Every point or bar carries the record behind it in its hover
text, and every label is the interface's language (``t``, ``name``, ``percent``; dates and
month names from Babel's CLDR data).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from review_app._i18n import (
    DOMAIN_NAMES,
    SOURCE_NAMES,
    Lang,
    name,
    number,
    percent,
    t,
)
from risk import PayloadContribution, format_log_odds, render_contribution

#: Contributions drawn one by one in the waterfall; the rest form one bar.
TOP_FEATURES = 12
#: Characters per line of a waterfall label (long ones wrap; nothing is cut).
LABEL_WIDTH = 60

DOMAIN_COLOURS: dict[str, str] = {
    "material": "#d08c2c",
    "health_disability": "#3f8f5a",
    "parenting_relations": "#7a5ba8",
    "child_development": "#2f78b5",
    "safety": "#c0392b",
}
SOURCE_COLOURS: dict[str, str] = {
    "social_protection": "#d08c2c",
    "education": "#2f78b5",
    "health": "#3f8f5a",
    "police": "#c0392b",
    "employment": "#8a6d3b",
    "housing": "#7f8c8d",
}
OTHER_COLOUR = "#bbbbbb"
#: Probabilities the waterfall's top axis may mark.
PROBABILITY_TICKS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99)
#: The fairness table's metric -> its column label key.
METRIC_KEYS: dict[str, str] = {
    "flag_rate": "col_outreach",
    "prevalence": "col_agreement",
    "mean_score": "col_mean_score",
}
_FONT = {"family": "system-ui, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif", "size": 12}


_GRID = "#ebf0f8"


class Chart:
    """A Plotly figure's description, sent to the browser as it is.

    Building a ``plotly.graph_objects.Figure`` validates every property in Python: on a busy
    server that took longer than the rest of opening a card (10 ms a chart against 1 ms for
    the description). The app sends the description (:meth:`to_json`, which Gradio's ``Plot``
    calls) and plotly.js draws it. :attr:`figure` (and attribute access such as
    ``chart.layout.title.text``, for tests and notebooks) builds the validated figure when asked.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self._figure: go.Figure | None = None

    @property
    def figure(self) -> go.Figure:
        """The validated Plotly figure (built on first use)."""
        if self._figure is None:
            self._figure = go.Figure(self.spec)
        return self._figure

    def to_json(self) -> str:
        """Return the description as JSON, unvalidated (numpy values included)."""
        import plotly.io as pio

        return str(pio.to_json(self.spec, validate=False))

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self.figure, attr)


def _figure(
    data: list[dict[str, Any]], layout: dict[str, Any], title: str, height: int, lang: Lang
) -> Chart:
    """Describe the figure in one pass from plain dicts, with the app's look.

    Plotly's step-by-step updates and its named templates cost far more than the chart itself:
    they were the largest share of opening a card on a busy server.
    """
    axes = {"gridcolor": _GRID, "zerolinecolor": _GRID, "linecolor": _GRID, "automargin": True}
    for axis in ("xaxis", "yaxis"):
        layout[axis] = {**axes, **layout.get(axis, {})}
    layout = {
        "title": {"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 15}},
        "height": height,
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "font": _FONT,
        "margin": {"l": 10, "r": 30, "t": 70, "b": 40},
        "hoverlabel": {"align": "left"},
        # Decimal and thousands separators of the axes' numbers, as ``number`` writes them.
        "separators": ", " if lang == "ru" else ".,",
        **layout,
    }
    return Chart({"data": data, "layout": layout})


def _vline(x: Any, **line: Any) -> dict[str, Any]:
    return {"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "paper",
            "line": line}  # fmt: skip


def _no_data(lang: Lang) -> dict[str, Any]:
    return {
        "annotations": [{"text": t(lang, "plot_no_data"), "x": 0.5, "y": 0.5, "xref": "paper",
                         "yref": "paper", "showarrow": False}],
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
    }  # fmt: skip


def _logit(p: float) -> float:
    q = min(max(p, 1e-9), 1 - 1e-9)
    return float(np.log(q / (1.0 - q)))


def _wrap(text: str) -> str:
    return "<br>".join(textwrap.wrap(text, LABEL_WIDTH)) or text


def _lookback(payload: Mapping[str, Any]) -> int | None:
    raw = payload.get("lookback_days")
    return int(raw) if raw is not None else None


def waterfall(payload: Mapping[str, Any], lang: Lang) -> Chart:
    """Draw the explanation as a waterfall, from the typical (or average) family to the family.

    The top ``TOP_FEATURES`` contributions are drawn one by one (coloured by need domain; the
    legend sits under the chart, clear of the bars), the rest as one bar. Labels wrap instead of
    being cut; hovering a bar shows its sentence with the record's value; the top axis reads the
    log-odds as probabilities.

    Examples
    --------
    >>> p = {"base_log_odds": -2.0, "log_odds": -1.0, "contributions": [
    ...     {"feature": "a", "value": 3.0, "contribution": 0.7, "domain": "safety",
    ...      "unit": "count", "description_ru": "А", "description_en": "A"},
    ...     {"feature": "b", "value": 1.0, "contribution": 0.3, "domain": "material",
    ...      "unit": "flag", "description_ru": "Б", "description_en": "B"}]}
    >>> sum(len(tr.x) for tr in waterfall(p, "en").data if tr.type == "bar")
    2
    """
    contributions: Sequence[PayloadContribution] = payload.get("contributions", [])
    lookback = _lookback(payload)
    top = list(contributions[:TOP_FEATURES])
    rest = contributions[TOP_FEATURES:]
    base = float(payload.get("base_log_odds", 0.0))
    # Where the bars start: the family the contributions are measured against.
    base_key = "plot_base" if payload.get("baseline") == "typical" else "plot_base_average"
    final = float(payload.get("log_odds", base + sum(c["contribution"] for c in contributions)))
    rows: list[dict[str, Any]] = [
        {
            "label": render_contribution(c, lang, lookback_days=lookback, effect=False),
            "hover": render_contribution(c, lang, lookback_days=lookback),
            "value": float(c["contribution"]),
            "domain": str(c.get("domain")),
        }
        for c in top
    ]
    if rest:
        other = t(lang, "plot_other", n=len(rest))
        rows.append(
            {
                "label": other,
                "hover": other,
                "value": sum(float(c["contribution"]) for c in rest),
                "domain": "",
            }
        )
    n = len(rows)
    start = base
    for i, row in enumerate(rows):
        row["y"], row["base"] = n - i, start
        start += row["value"]
    data: list[dict[str, Any]] = []
    for domain in [*DOMAIN_COLOURS, ""]:
        group = [
            r for r in rows if (r["domain"] if r["domain"] in DOMAIN_COLOURS else "") == domain
        ]
        if not group:
            continue
        label = name(DOMAIN_NAMES, domain, lang) if domain else t(lang, "plot_other", n=len(rest))
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "y": [r["y"] for r in group],
                "x": [r["value"] for r in group],
                "base": [r["base"] for r in group],
                "marker": {"color": DOMAIN_COLOURS.get(domain, OTHER_COLOUR), "line": {"width": 0}},
                "width": 0.7,
                "name": label,
                "showlegend": bool(domain),
                "text": [format_log_odds(r["value"], lang) for r in group],
                "textposition": "outside",
                "cliponaxis": False,
                "customdata": [
                    [_wrap(r["hover"]), format_log_odds(r["value"], lang)] for r in group
                ],
                "hovertemplate": "%{customdata[0]}<br><b>%{customdata[1]}</b><extra></extra>",
            }
        )
    ends = [base, final, *(r["base"] + r["value"] for r in rows)]
    lo, hi = min(ends), max(ends)
    pad = 0.18 * (hi - lo or 1.0)
    span = [lo - pad, hi + pad]
    ticks = [p for p in PROBABILITY_TICKS if span[0] <= _logit(p) <= span[1]]
    # An invisible trace on the top axis, so that Plotly draws it (probabilities of the log-odds).
    data.append(
        {"type": "scatter", "x": span, "y": [n, n], "xaxis": "x2", "mode": "markers",
         "marker": {"opacity": 0}, "hoverinfo": "skip", "showlegend": False}
    )  # fmt: skip
    layout = {
        "barmode": "overlay",
        "shapes": [
            _vline(base, color="#555555", width=1, dash="dot"),
            _vline(final, color="#111111", width=2),
        ],
        "annotations": [
            {"x": x, "y": n + 0.75, "text": t(lang, key), "showarrow": False,
             "font": {"size": 11, "weight": weight}, "yanchor": "bottom"}
            for x, key, weight in ((base, base_key, "normal"), (final, "plot_final", "bold"))
        ],
        "xaxis": {"range": span, "title": {"text": t(lang, "plot_logit")}, "zeroline": False},
        "xaxis2": {
            "overlaying": "x", "side": "top", "range": span, "matches": "x",
            "tickvals": [_logit(p) for p in ticks], "ticktext": [percent(p, lang) for p in ticks],
            "title": {"text": t(lang, "plot_prob"), "font": {"size": 11}}, "showgrid": False,
        },
        "yaxis": {
            "tickvals": [r["y"] for r in rows], "ticktext": [_wrap(r["label"]) for r in rows],
            "range": [0.4, n + 1.3], "showgrid": False,
        },
        "legend": {"orientation": "h", "x": 0.0, "y": -0.12, "yanchor": "top"},
    }  # fmt: skip
    lines = sum(len(textwrap.wrap(r["label"], LABEL_WIDTH)) or 1 for r in rows)
    return _figure(data, layout, t(lang, "plot_waterfall"), 22 * lines + 14 * n + 240, lang)


def _month_ticks(first: date, last: date, lang: Lang) -> tuple[list[str], list[str]]:
    """Month starts from ``first`` to ``last`` (at most about eight), named in the language."""
    from babel.dates import format_date

    months = pd.date_range(pd.Timestamp(first).to_period("M").start_time, last, freq="MS")
    step = max(1, -(-len(months) // 8))
    shown = months[::step]
    return (
        [d.date().isoformat() for d in shown],
        [format_date(d.date(), "LLL yyyy", locale=lang) for d in shown],
    )


def timeline(payload: Mapping[str, Any], lang: Lang) -> Chart:
    """Draw the family's records in the lookback, one row per source, with the as-of date.

    Hovering a point shows the record: its date, what it is and its value.

    Examples
    --------
    >>> p = {"as_of": "2025-06-30", "timeline": [{"event_id": "E1", "date": "2025-03-01",
    ...     "source": "education", "event_type": "school_absence", "value": 7.0,
    ...     "description_ru": "Пропуски", "description_en": "Absence"}]}
    >>> [tr.name for tr in timeline(p, "ru").data]
    ['Образование · 1']
    """
    from babel.dates import format_date

    events = payload.get("timeline", [])
    data: list[dict[str, Any]] = []
    rows = [name(SOURCE_NAMES, s, lang) for s in SOURCE_NAMES]
    for source, row in zip(SOURCE_NAMES, rows, strict=True):
        mine = [e for e in events if e["source"] == source]
        if not mine:
            continue
        data.append({
            "type": "scatter",
            "x": [str(e["date"])[:10] for e in mine],
            "y": [row] * len(mine),
            "mode": "markers",
            "name": f"{row} · {len(mine)}",
            "marker": {"size": 10, "color": SOURCE_COLOURS.get(source, OTHER_COLOUR),
                       "opacity": 0.8, "line": {"color": "white", "width": 1}},
            "customdata": [
                [
                    format_date(date.fromisoformat(str(e["date"])[:10]), "long", locale=lang),
                    _wrap(str(e.get(f"description_{lang}") or e.get("event_type", ""))),
                    "" if e.get("value") is None else number(float(e["value"]), lang, 1),
                ]
                for e in mine
            ],
            "hovertemplate": (
                "%{customdata[0]}<br>%{customdata[1]}<br>%{customdata[2]}<extra></extra>"
            ),
        })  # fmt: skip
    layout: dict[str, Any] = _no_data(lang) if not events else {"annotations": []}
    layout["shapes"] = []
    as_of = payload.get("as_of")
    dates = [date.fromisoformat(str(e["date"])[:10]) for e in events]
    if as_of:
        end = date.fromisoformat(str(as_of)[:10])
        layout["shapes"].append(_vline(end.isoformat(), color="#111111", width=1, dash="dash"))
        layout["annotations"].append(
            {"x": end.isoformat(), "y": 1.0, "yref": "paper", "text": t(lang, "plot_as_of"),
             "showarrow": False, "xanchor": "right", "yanchor": "bottom", "font": {"size": 11}}
        )  # fmt: skip
        dates.append(end)
    if dates:
        tickvals, ticktext = _month_ticks(min(dates), max(dates), lang)
        layout["xaxis"] = {**layout.get("xaxis", {}), "tickvals": tickvals, "ticktext": ticktext,
                           "showgrid": True, "gridcolor": "#eeeeee"}  # fmt: skip
    layout["yaxis"] = {**layout.get("yaxis", {}), "categoryorder": "array",
                       "categoryarray": rows[::-1], "range": [-0.5, len(rows) - 0.5]}  # fmt: skip
    layout["legend"] = {"orientation": "h", "x": 0.0, "y": -0.15, "yanchor": "top"}
    return _figure(data, layout, t(lang, "plot_timeline"), 340, lang)


def _count_step(largest: int) -> int:
    """Return a whole-number tick step for counts up to ``largest`` (about six ticks).

    Examples
    --------
    >>> _count_step(3), _count_step(14), _count_step(900)
    (1, 5, 200)
    """
    raw = max(largest, 1) / 6
    if raw <= 1:
        return 1
    power = 10 ** int(np.floor(np.log10(raw)))
    return next(int(k * power) for k in (1, 2, 5, 10) if k * power >= raw)


def counts_bar(counts: Mapping[str, int], title: str, lang: Lang) -> Chart:
    """Draw a horizontal bar chart of counts (whole-number ticks; hover gives the count).

    Examples
    --------
    >>> fig = counts_bar({"a": 2, "b": 1}, "t", "en")
    >>> list(fig.data[0].x), fig.layout.xaxis.dtick
    ([2, 1], 1)
    """
    height = 28 * max(len(counts), 1) + 150
    if not counts:
        return _figure([], _no_data(lang), title, height, lang)
    keys = list(counts)
    values = [int(counts[k]) for k in keys]
    bar = {
        "type": "bar", "orientation": "h", "y": keys, "x": values, "marker": {"color": "#2f78b5"},
        "text": [number(v, lang) for v in values], "textposition": "outside",
        "cliponaxis": False, "hovertemplate": "%{y}: %{text}<extra></extra>",
    }  # fmt: skip
    layout = {
        "xaxis": {"dtick": _count_step(max(values)), "tickformat": "d", "rangemode": "tozero"},
        "yaxis": {"autorange": "reversed"},
    }
    return _figure([bar], layout, title, height, lang)


def fairness_ratios(
    table: pd.DataFrame, metrics: Sequence[str], band: tuple[float, float], lang: Lang
) -> Chart:
    """Draw each group's ratios to its reference group, one marker per metric.

    ``table`` is ``risk.fairness.audit``'s output with attributes and groups already named in
    the language. The band of acceptable ratios is shaded and 1 is drawn; hovering a marker
    shows the group's size, its value and its ratio.

    Examples
    --------
    >>> table = pd.DataFrame({"attribute": ["District"] * 2, "group": ["a", "b"], "n": [5, 7],
    ...     "flag_rate": [0.5, 0.4], "flag_rate_ratio": [1.0, 0.8]})
    >>> len(fairness_ratios(table, ["flag_rate"], (0.8, 1.25), "en").data[0].x)
    2
    """
    rows = [f"{a}: {g}" for a, g in zip(table["attribute"], table["group"], strict=True)]
    low, high = band
    shapes = [
        {"type": "rect", "x0": low, "x1": high, "xref": "x", "y0": 0, "y1": 1, "yref": "paper",
         "fillcolor": "#3f8f5a", "opacity": 0.12, "line": {"width": 0}},
        _vline(1.0, color="#111111", width=1),
    ]  # fmt: skip
    symbols = ("circle", "diamond", "square")
    data: list[dict[str, Any]] = []
    for i, metric in enumerate(metrics):
        ratios = table[f"{metric}_ratio"].astype(float).to_numpy()
        values = table[metric].astype(float).to_numpy()
        label = t(lang, METRIC_KEYS[metric]) if metric in METRIC_KEYS else metric
        data.append({
            "type": "scatter", "x": [None if not np.isfinite(r) else float(r) for r in ratios],
            "y": rows, "mode": "markers", "name": label,
            "marker": {"size": 11, "symbol": symbols[i % len(symbols)]},
            "customdata": [
                [number(int(n), lang), "—" if not np.isfinite(v) else percent(float(v), lang),
                 "—" if not np.isfinite(r) else number(float(r), lang, 2)]
                for n, v, r in zip(table["n"], values, ratios, strict=True)
            ],
            "hovertemplate": (
                f"%{{y}}<br>{t(lang, 'col_n')}: %{{customdata[0]}}<br>{label}: "
                "%{customdata[1]} (%{customdata[2]})<extra></extra>"
            ),
        })  # fmt: skip
    layout = {
        "shapes": shapes,
        "yaxis": {"autorange": "reversed"},
        "legend": {"orientation": "h", "x": 0.0, "y": -0.12, "yanchor": "top"},
    }
    return _figure(data, layout, t(lang, "sup_fairness"), 26 * max(len(rows), 1) + 200, lang)
