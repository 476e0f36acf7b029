"""The family card: a flag's stored payload rendered as text and figures (pure, no I/O).

Everything here reads the payload "as shown" when the run was enqueued (a
:class:`risk.FlagPayload`: score, contributions, coverage, needs, services, timeline) and renders
it in one language; each contribution reads as ``risk.render_contribution`` writes it. Charts are
Plotly figures the browser draws (``review_app._charts``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from review_app import _charts as charts
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
    from review_app._charts import Chart

#: Contributions listed as sentences; the rest are summed per domain.
TOP_SENTENCES = 15
#: Contributions smaller than this (in log-odds) are not worth a sentence.
MIN_SENTENCE = 0.01

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
    typical = payload.get("baseline", "average") == "typical"
    out = ["### " + t(lang, "explain_head")]
    out.append("*" + t(lang, "explain_against" if typical else "explain_against_average") + "*")
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
        # The summary is only the words "Exact figures": no number shows until it is opened.
        if log_odds is not None:
            base = float(payload.get("base_log_odds", float("nan")))
            totals = t(
                lang,
                "exact_totals" if typical else "exact_totals_average",
                log_odds=format_log_odds(log_odds, lang),
                base=format_log_odds(base, lang) if base == base else "—",
            )
            exact.insert(0, totals[:1].upper() + totals[1:] + ".\n")
        out.append(
            f"<details><summary>{t(lang, 'exact_head')}</summary>\n\n"
            + "\n".join(exact)
            + "\n\n</details>"
        )
    return "\n\n".join(out)


def blind_spots(payload: Mapping[str, Any], lang: Lang) -> str:
    """Render what the model cannot see: missing agency feeds, and sources with no records.

    A feed that went silent in the family's district before the run (the payload's
    ``missing_sources``, from the run's input check) comes first: a missing feed must never
    look like low risk.
    """
    coverage: Mapping[str, bool] = payload.get("coverage", {})
    missing = [name(SOURCE_NAMES, s, lang) for s, seen in coverage.items() if not seen]
    body = t(lang, "blind_some", sources=", ".join(missing)) if missing else t(lang, "blind_none")
    feeds = [name(SOURCE_NAMES, str(s), lang) for s in payload.get("missing_sources", [])]
    if feeds:
        body = "**" + t(lang, "feed_missing", sources=", ".join(feeds)) + "**\n\n" + body
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
                at=when(pd.Timestamp(d["decided_at"]).to_pydatetime(), lang),
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


def waterfall_figure(payload: Mapping[str, Any], lang: Lang) -> Chart:
    """Draw the explanation as an interactive waterfall (see :func:`review_app._charts.waterfall`).

    Examples
    --------
    >>> p = {"base_log_odds": -2.0, "log_odds": -1.0, "contributions": []}
    >>> waterfall_figure(p, "en").layout.title.text
    'Contributions to the score (log-odds)'
    """
    return charts.waterfall(payload, lang)


def timeline_figure(payload: Mapping[str, Any], lang: Lang) -> Chart:
    """Draw the family's records by source (see :func:`review_app._charts.timeline`).

    Examples
    --------
    >>> timeline_figure({"timeline": []}, "ru").layout.title.text
    'Записи о семье по источникам'
    """
    return charts.timeline(payload, lang)


def bar_figure(counts: Mapping[str, int], title: str, lang: Lang) -> Chart:
    """Draw a horizontal bar chart of counts (see :func:`review_app._charts.counts_bar`).

    Examples
    --------
    >>> list(bar_figure({"a": 2, "b": 1}, "t", "en").data[0].x)
    [2, 1]
    """
    return charts.counts_bar(counts, title, lang)
