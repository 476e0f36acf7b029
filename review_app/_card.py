"""The family card: a flag's stored payload rendered as text and figures (pure, no I/O).

Everything here reads the payload "as shown" when the run was enqueued (a
:class:`risk.FlagPayload`: score, contributions, coverage, needs, services, timeline) and renders
it in one language; each contribution reads as ``risk.render_contribution`` writes it. Figures are
built without ``pyplot`` (no global state, safe across threads).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from review_app._i18n import (
    DECISION_NAMES,
    DOMAIN_NAMES,
    SOURCE_NAMES,
    STATUS_NAMES,
    TIER_NAMES,
    Lang,
    count,
    district_name,
    model_label,
    month_label,
    name,
    number,
    percent,
    t,
    when,
)
from review_app._text import escape_text
from risk import (
    PayloadContribution,
    format_log_odds,
    format_points,
    percentage_points,
    render_contribution,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Contributions drawn one by one in the waterfall; the rest form one bar.
TOP_FEATURES = 12
#: Contributions listed as sentences; the rest are summed per domain.
TOP_SENTENCES = 15
#: Contributions smaller than this (in log-odds) are not worth a sentence.
MIN_SENTENCE = 0.01

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


# The registry's descriptions end with how "no data" is filled, e.g. "(none in the lookback —
# lookback + 1, 1096 by default)": right for documentation, noise beside a family's value.
_FILL_NOTE = re.compile(r"\s*\([^()]* — [^()]*\)\s*$")


def _desc(entry: Mapping[str, Any], lang: Lang) -> str:
    return _FILL_NOTE.sub("", str(entry[f"description_{lang}"]))


def _lookback(payload: Mapping[str, Any]) -> int | None:
    # Payloads stored before they carried the model's lookback: the renderer's default one.
    value = payload.get("lookback_days")
    return None if value is None else int(value)


def family_header(item: Mapping[str, Any], payload: Mapping[str, Any], lang: Lang) -> str:
    """Composition: pseudonymous id, district, settlement, children's ages, circumstances."""
    comp = payload.get("composition", {})
    settlement = str(comp.get("settlement", payload.get("settlement", "")))
    lines = [
        t(
            lang,
            "family_line",
            family=payload.get("family_id", item.get("family_id")),
            district=district_name(str(payload.get("district", item.get("district"))), lang),
            settlement=t(lang, settlement) if settlement in ("urban", "rural") else settlement,
            flag=item.get("flag_id"),
            status=name(STATUS_NAMES, str(item.get("status", "")), lang),
        )
    ]
    ages = list(comp.get("children_ages", []))
    if ages:
        lines.append(t(lang, "children", n=len(ages), ages=", ".join(str(a) for a in ages)))
    else:
        lines.append(t(lang, "no_children"))
    marks = [
        t(lang, k)
        for k in ("single_parent", "large_family", "disabled_child", "low_income")
        if comp.get(k)
    ]
    if marks:
        lines[-1] += " · " + ", ".join(marks)
    return "### " + t(lang, "composition") + "\n" + "\n\n".join(lines)


def score_block(item: Mapping[str, Any], payload: Mapping[str, Any], lang: Lang) -> str:
    """Score as a calibrated probability beside the regional base rate, tier and uncertainty."""
    p = float(payload.get("score", item.get("score", 0.0)))
    base = float(payload.get("base_rate", float("nan")))
    if base > 0 and p >= base:
        ratio = t(lang, "ratio_higher", x=number(p / base, lang, 1))
    else:
        ratio = t(lang, "ratio_lower")
    k = round(100 * p)
    version = str(payload.get("model_version", item.get("model_version", "")))
    model = model_label(f"{payload.get('model_name', '')}@{version}".strip("@"), lang)
    return (
        "### "
        + t(lang, "score_head")
        + "\n"
        + t(
            lang,
            "score_line",
            p=percent(p, lang),
            base=percent(base, lang) if base == base else "—",
            ratio=ratio,
            tier=name(TIER_NAMES, str(payload.get("tier", item.get("tier", ""))), lang),
            rank=payload.get("rank_in_district", item.get("rank_in_district", "—")),
            capacity=payload.get("capacity", "—"),
        )
        + "\n\n*"
        + t(
            lang,
            "uncertainty",
            k=k,
            rest=100 - k,
            model=model,
            as_of=when(str(payload.get("as_of", item.get("as_of", "")))[:10], lang),
        )
        + "*"
    )


def explanation(payload: Mapping[str, Any], lang: Lang) -> str:
    """Render the explanation as plain sentences with record values, grouped by need domain.

    Each sentence is :func:`risk.render_contribution`'s (as in ``risk.Explanation.to_text``),
    with the lookback of the model that scored the family; how much a signal or a domain moves
    the family's estimate is said in percentage points. The exact figures (log-odds, each
    trend's value) are one click away, in a folded "exact figures" block.
    """
    contributions: Sequence[PayloadContribution] = payload.get("contributions", [])
    lookback = _lookback(payload)
    raw_log_odds = payload.get("log_odds")
    log_odds = None if raw_log_odds is None else float(raw_log_odds)
    shown = [c for c in contributions[:TOP_SENTENCES] if abs(c["contribution"]) >= MIN_SENTENCE]
    shown_ids = {id(c) for c in shown}
    by_domain: Mapping[str, float] = payload.get("by_domain", {})
    order = sorted(by_domain, key=lambda d: -abs(float(by_domain[d])))
    out = ["### " + t(lang, "explain_head")]
    exact = []
    needs = [name(DOMAIN_NAMES, d, lang) for d in payload.get("needs", [])]
    if needs:
        out.append(f"**{t(lang, 'needs_head')}:** " + ", ".join(needs))

    def moved(x: float) -> str:
        if log_odds is None:
            return format_log_odds(x, lang)
        return format_points(percentage_points(x, log_odds), lang)

    for domain in order:
        mine = [c for c in shown if c.get("domain") == domain]
        rest = [c for c in contributions if c.get("domain") == domain and id(c) not in shown_ids]
        if not mine and abs(float(by_domain[domain])) < MIN_SENTENCE:
            continue
        total = float(by_domain[domain])
        head = t(
            lang, "explain_domain", domain=name(DOMAIN_NAMES, domain, lang), total=moved(total)
        )
        lines = [f"**{head}**"]
        lines += [
            f"- {render_contribution(c, lang, lookback_days=lookback, log_odds=log_odds)}"
            for c in mine
        ]
        exact.append(f"**{name(DOMAIN_NAMES, domain, lang)}: {format_log_odds(total, lang)}**")
        exact += [
            f"- {render_contribution(c, lang, lookback_days=lookback, exact=True)}" for c in mine
        ]
        if rest:
            rest_total = sum(float(c["contribution"]) for c in rest)
            lines.append(
                "- *"
                + t(lang, "others", n=count(len(rest), "signals", lang), total=moved(rest_total))
                + "*"
            )
            exact.append(
                "- "
                + t(
                    lang,
                    "others",
                    n=count(len(rest), "signals", lang),
                    total=format_log_odds(rest_total, lang),
                )
            )
        out.append("\n".join(lines))
    if exact:
        head = t(lang, "exact_head")
        if log_odds is not None:
            base = float(payload.get("base_log_odds", float("nan")))
            head += " — " + t(
                lang,
                "exact_totals",
                log_odds=format_log_odds(log_odds, lang),
                base=format_log_odds(base, lang) if base == base else "—",
            )
        out.append(f"<details><summary>{head}</summary>\n\n" + "\n".join(exact) + "\n\n</details>")
    return "\n\n".join(out)


def blind_spots(payload: Mapping[str, Any], lang: Lang) -> str:
    """Render what the model cannot see: sources with no records for this family."""
    coverage: Mapping[str, bool] = payload.get("coverage", {})
    missing = [name(SOURCE_NAMES, s, lang) for s, seen in coverage.items() if not seen]
    body = t(lang, "blind_some", sources=", ".join(missing)) if missing else t(lang, "blind_none")
    return "### " + t(lang, "blind_head") + "\n" + body


def service_label(service: Mapping[str, Any], lang: Lang) -> str:
    """Label a service as the decision form shows it: name — organisation.

    Examples
    --------
    >>> service_label({"name_en": "Parenting school", "organisation_en": "Family centre"}, "en")
    'Parenting school — Family centre'
    """
    return f"{service[f'name_{lang}']} — {service[f'organisation_{lang}']}"


def services_block(payload: Mapping[str, Any], lang: Lang) -> str:
    """Suggested services available in the family's district, with the needs they serve."""
    services = payload.get("services", [])
    out = ["### " + t(lang, "services_head")]
    if not services:
        out.append(t(lang, "services_none"))
    for s in services:
        domains = ", ".join(name(DOMAIN_NAMES, d, lang) for d in s.get("domains", []))
        out.append(f"- **{s[f'name_{lang}']}** — {s[f'organisation_{lang}']} *({domains})*")
    return "\n".join(out)


def decisions_block(decisions: pd.DataFrame, lang: Lang, service_names: Mapping[str, str]) -> str:
    """Previous decisions for this family, oldest first."""
    out = ["### " + t(lang, "decisions_head")]
    if decisions.empty:
        out.append(t(lang, "decisions_none"))
        return "\n".join(out)
    for d in decisions.to_dict(orient="records"):
        # Everything but the code-made fields was written by a person: shown as text.
        services = [escape_text(service_names.get(s, s)) for s in d["services_offered"]]
        out.append(
            "- "
            + t(
                lang,
                "decision_line",
                at=pd.Timestamp(d["decided_at"]).strftime("%Y-%m-%d %H:%M"),
                user=escape_text(d["user"]),
                decision=name(DECISION_NAMES, str(d["decision"]), lang),
                agree=t(lang, "agree_short" if d["agrees_with_model"] else "disagree_short"),
                services=(" · " + "; ".join(services)) if services else "",
                rationale=escape_text(d["rationale"]),
            )
        )
    return "\n".join(out)


def timeline_rows(payload: Mapping[str, Any], lang: Lang) -> list[tuple[str, str]]:
    """(label, event_id) choices for disputing a record, newest first.

    Examples
    --------
    >>> timeline_rows({"timeline": [{"event_id": "E1", "date": "2025-03-01",
    ...     "source": "education", "event_type": "school_absence", "value": 7.0,
    ...     "description_ru": "Пропуски", "description_en": "Absence"}]}, "en")
    [('1 March 2025 · Education · Absence · 7', 'E1')]
    """
    out = []
    for e in reversed(payload.get("timeline", [])):
        value = "" if e.get("value") is None else f" · {number(float(e['value']), lang)}"
        # The record's id stays the choice's value: a person reads the date, source and what.
        label = (
            f"{when(str(e['date']), lang)} · {name(SOURCE_NAMES, str(e['source']), lang)} · "
            f"{_desc(e, lang)}{value}"
        )
        out.append((label, str(e["event_id"])))
    return out


# -- figures ------------------------------------------------------------------------------


def _sigmoid(x: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def _logit(p: Any) -> Any:
    q = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    return np.log(q / (1.0 - q))


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    fig.patch.set_facecolor("white")
    return fig


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def waterfall_figure(payload: Mapping[str, Any], lang: Lang) -> Figure:
    """Draw the explanation as a waterfall, from the regional average to the family's score.

    The top ``TOP_FEATURES`` contributions are drawn one by one (coloured by need domain, with
    the record value), the rest as one bar; the top axis reads the log-odds as probabilities.

    Examples
    --------
    >>> p = {"base_log_odds": -2.0, "log_odds": -1.0, "contributions": [
    ...     {"feature": "a", "value": 3.0, "contribution": 0.7, "domain": "safety",
    ...      "unit": "count", "description_ru": "А", "description_en": "A"},
    ...     {"feature": "b", "value": 1.0, "contribution": 0.3, "domain": "material",
    ...      "unit": "flag", "description_ru": "Б", "description_en": "B"}]}
    >>> len(waterfall_figure(p, "en").axes[0].patches)
    2
    """
    contributions: Sequence[PayloadContribution] = payload.get("contributions", [])
    lookback = _lookback(payload)
    top = list(contributions[:TOP_FEATURES])
    rest = contributions[TOP_FEATURES:]
    base = float(payload.get("base_log_odds", 0.0))
    final = float(payload.get("log_odds", base + sum(c["contribution"] for c in contributions)))
    labels = [
        _short(render_contribution(c, lang, lookback_days=lookback, effect=False)) for c in top
    ]
    values = [float(c["contribution"]) for c in top]
    colours = [DOMAIN_COLOURS.get(str(c.get("domain")), "#888888") for c in top]
    if rest:
        labels.append(t(lang, "plot_other", n=count(len(rest), "signals", lang)))
        values.append(sum(float(c["contribution"]) for c in rest))
        colours.append("#bbbbbb")
    n = len(values)
    fig = _figure(13.0, 0.36 * n + 2.0)
    ax = fig.add_subplot()
    start = base
    for i, (v, colour) in enumerate(zip(values, colours, strict=True)):
        y = n - i
        ax.barh(y, v, left=start, color=colour, height=0.7, edgecolor="white")
        ax.text(
            start + v + (0.02 if v >= 0 else -0.02),
            y,
            format_log_odds(v, lang),
            va="center",
            ha="left" if v >= 0 else "right",
            fontsize=8,
            color="#333333",
        )
        if i + 1 < n:
            ax.plot([start + v, start + v], [y - 0.35, y - 0.65], color="#999999", lw=0.8)
        start += v
    ax.axvline(base, color="#555555", lw=1, ls=":")
    ax.axvline(final, color="#111111", lw=1.5)
    ax.set_yticks(range(n, 0, -1), labels, fontsize=9)
    ax.set_ylim(0.3, n + 0.8)
    lo, hi = min(base, final), max(base, final)
    running = base
    for v in values:
        running += v
        lo, hi = min(lo, running), max(hi, running)
    pad = 0.15 * (hi - lo or 1.0)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_xlabel(t(lang, "plot_logit"))
    ax.set_title(t(lang, "plot_waterfall"), fontsize=11, loc="left")
    ax.text(base, n + 0.55, t(lang, "plot_base"), fontsize=8, ha="center", color="#555555")
    ax.text(final, n + 0.55, t(lang, "plot_final"), fontsize=8, ha="center", weight="bold")
    top_axis = ax.secondary_xaxis(
        "top",
        functions=(
            _sigmoid,
            _logit,
        ),
    )
    top_axis.set_xlabel(t(lang, "plot_prob"), fontsize=8)
    top_axis.tick_params(labelsize=8)
    ax.spines[["right"]].set_visible(False)
    from matplotlib.patches import Patch

    domains = [d for d in DOMAIN_COLOURS if any(c.get("domain") == d for c in top)]
    ax.legend(
        handles=[
            Patch(color=DOMAIN_COLOURS[d], label=name(DOMAIN_NAMES, d, lang)) for d in domains
        ],
        loc="lower right",
        fontsize=8,
        frameon=False,
    )
    return fig


def timeline_figure(payload: Mapping[str, Any], lang: Lang) -> Figure:
    """Draw the family's records in the lookback, one row per source, with the as-of date.

    Examples
    --------
    >>> p = {"as_of": "2025-06-30", "timeline": [{"event_id": "E1", "date": "2025-03-01",
    ...     "source": "education", "event_type": "school_absence", "value": 7.0,
    ...     "description_ru": "Пропуски", "description_en": "Absence"}]}
    >>> len(timeline_figure(p, "ru").axes[0].collections)
    1
    """
    from matplotlib.dates import AutoDateLocator, date2num, num2date
    from matplotlib.ticker import FuncFormatter

    events = payload.get("timeline", [])
    sources = list(SOURCE_NAMES)
    fig = _figure(13.0, 2.8)
    ax = fig.add_subplot()
    for i, source in enumerate(sources):
        dates = date2num([date.fromisoformat(e["date"]) for e in events if e["source"] == source])
        if len(dates):
            ax.scatter(
                dates,
                [len(sources) - i] * len(dates),
                s=28,
                color=SOURCE_COLOURS[source],
                alpha=0.75,
                edgecolors="white",
                linewidths=0.5,
            )
            ax.text(
                1.005,
                (len(sources) - i - 0.5) / len(sources),
                str(len(dates)),
                transform=ax.transAxes,
                fontsize=8,
                va="center",
                color="#555555",
            )
    as_of = payload.get("as_of")
    if as_of:
        d = float(date2num(date.fromisoformat(str(as_of)[:10])))
        ax.axvline(d, color="#111111", lw=1, ls="--")
        ax.text(d, len(sources) + 0.45, t(lang, "plot_as_of"), fontsize=8, ha="right")
    labels = [name(SOURCE_NAMES, s, lang) for s in sources]
    ax.set_yticks(range(len(sources), 0, -1), labels, fontsize=9)
    ax.set_ylim(0.4, len(sources) + 0.8)
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    # Month names in the page's language (CLDR), not matplotlib's English ones.
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda x, _pos: month_label(num2date(x).date(), lang))
    )
    ax.grid(axis="x", color="#eeeeee")
    ax.set_title(t(lang, "plot_timeline"), fontsize=11, loc="left")
    ax.spines[["right", "top"]].set_visible(False)
    return fig


def bar_figure(counts: Mapping[str, int], title: str, lang: Lang) -> Figure:
    """Draw a horizontal bar chart of counts (decisions by outcome).

    Examples
    --------
    >>> len(bar_figure({"a": 2, "b": 1}, "t", "en").axes[0].patches)
    2
    """
    fig = _figure(7.0, 0.45 * max(len(counts), 1) + 1.2)
    ax = fig.add_subplot()
    if not counts:
        ax.text(0.5, 0.5, t(lang, "plot_no_data"), ha="center", va="center")
        ax.set_axis_off()
        return fig
    keys = list(counts)
    ax.barh(range(len(keys), 0, -1), [counts[k] for k in keys], color="#2f78b5")
    ax.set_yticks(range(len(keys), 0, -1), keys, fontsize=9)
    for i, k in enumerate(keys):
        ax.text(counts[k], len(keys) - i, f" {counts[k]}", va="center", fontsize=8)
    ax.set_title(title, fontsize=11, loc="left")
    ax.spines[["right", "top"]].set_visible(False)
    return fig
