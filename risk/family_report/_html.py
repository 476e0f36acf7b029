"""The family report as one self-contained, printable HTML page; every text is escaped."""

from __future__ import annotations

from html import escape

from risk.family_report._build import FamilyReport
from risk.family_report._text import day, t

# DejaVu has Cyrillic and is on most Linux systems; the print rules give A4 pages with margins.
CSS = """
@page { size: A4; margin: 18mm 16mm 18mm 16mm;
        @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt;
                        color: #666; } }
html { font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; font-size: 10.5pt;
       line-height: 1.45; color: #1b1b1b; }
body { max-width: 180mm; margin: 0 auto; }
h1 { font-size: 16pt; margin: 0 0 4pt 0; }
h2 { font-size: 12.5pt; margin: 16pt 0 4pt 0; border-bottom: 1px solid #bbb; padding-bottom: 2pt; }
.meta { color: #444; margin: 0; }
.intro { background: #f3f6f9; border-left: 3pt solid #5b7fa3; padding: 6pt 9pt; margin: 10pt 0; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0; }
th, td { text-align: left; vertical-align: top; padding: 3pt 5pt; border-bottom: 1px solid #ddd; }
th { background: #eef1f4; font-weight: bold; }
td.n { text-align: right; white-space: nowrap; }
td.src { font-weight: bold; width: 24%; }
th:nth-child(3) { width: 9%; } th:nth-child(4) { width: 27%; }
.written { white-space: pre-wrap; border-left: 2pt solid #ccc; padding: 2pt 8pt;
           margin: 3pt 0 8pt 0; font-style: italic; }
ol li { margin-bottom: 3pt; }
.legal { font-size: 9pt; color: #333; margin-top: 10pt; }
h2, tr, .written, .block { page-break-inside: avoid; }
h2 { page-break-after: avoid; }
@media screen { body { margin: 24px auto; } }
"""


def _p(text: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{escape(text)}</p>"


def _sources(r: FamilyReport) -> list[str]:
    L = r.lang
    out = [f"<h2>{escape(t(L, 'h_sources'))}</h2>", _p(t(L, "sources_intro"))]
    if r.n_members is not None and r.registered_on is not None:
        out.append(_p(t(L, "register", n=r.n_members, date=day(r.registered_on, L))))
    if not r.sources:
        out.append(_p(t(L, "no_records")))
        return out
    head = "".join(
        f"<th>{escape(t(L, k))}</th>" for k in ("col_source", "col_type", "col_count", "col_dates")
    )
    rows = []
    for s in r.sources:
        for i, rt in enumerate(s.types):
            source = (
                f'<td class="src" rowspan="{len(s.types)}">{escape(s.name)}<br>'
                f"{escape(t(L, 'col_count'))}: {s.n}</td>"
                if i == 0
                else ""
            )
            same = rt.first == rt.last
            dates = t(
                L, "one_date" if same else "dates", first=day(rt.first, L), last=day(rt.last, L)
            )
            rows.append(
                f"<tr>{source}<td>{escape(rt.description)}</td><td class='n'>{rt.n}</td>"
                f"<td>{escape(dates)}</td></tr>"
            )
    out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    return out


def _used(r: FamilyReport) -> list[str]:
    L = r.lang
    out = [f"<h2>{escape(t(L, 'h_used'))}</h2>"]
    if not r.screenings:
        out.append(_p(t(L, "used_none")))
    for s in r.screenings:
        out.append(
            _p(
                t(
                    L,
                    "used",
                    as_of=day(s.as_of, L),
                    days=s.lookback_days,
                    start=day(s.start, L),
                    n=s.n_used,
                    sources=", ".join(s.sources) or "—",
                )
            )
        )
        if s.n_disputed:
            out.append(_p(t(L, "used_disputed", n=s.n_disputed)))
    return out


def _decided(r: FamilyReport) -> list[str]:
    L = r.lang
    out = [f"<h2>{escape(t(L, 'h_decided'))}</h2>", _p(t(L, "decided_intro"))]
    for d in r.decisions:
        said = t(L, "decision", date=day(d.decided_on, L), role=d.role, decision=d.decision)
        out.append(
            f'<div class="block">{_p(said)}{_p(t(L, "why"))}'
            f'<div class="written">{escape(d.rationale)}</div></div>'
        )
    if r.awaiting and not r.decisions:
        out.append(_p(t(L, "awaiting")))
    return out


def _offered(r: FamilyReport) -> list[str]:
    L = r.lang
    out = [f"<h2>{escape(t(L, 'h_offered'))}</h2>"]
    services = [s for d in r.decisions for s in d.services]
    if not services:
        out.append(_p(t(L, "offered_none")))
        return out
    items = "".join(
        f"<li><b>{escape(s.name)}</b>"
        + (f" — {escape(s.organisation)}" if s.organisation else "")
        + "</li>"
        for s in dict.fromkeys(services)
    )
    out.append(f"<ul>{items}</ul>")
    out.append(_p(t(L, "offered_note")))
    return out


def _after(r: FamilyReport) -> list[str]:
    if r.follow_ups is None:  # the store keeps no follow-ups: no section at all
        return []
    L = r.lang
    out = [f"<h2>{escape(t(L, 'h_after'))}</h2>"]
    for f in r.follow_ups:
        out.append(_p(t(L, "after_opened", date=day(f.opened_on, L), status=f.status)))
        if f.steps:
            out.append("<ul>" + "".join(f"<li>{escape(s)}</li>" for s in f.steps) + "</ul>")
        for note in f.notes:
            out.append(f'<div class="written">{escape(note)}</div>')
        if f.closed_on is not None:
            out.append(_p(t(L, "after_closed", date=day(f.closed_on, L), outcome=f.outcome or "—")))
    return out


def _disputes(r: FamilyReport) -> list[str]:
    L = r.lang
    out = []
    if r.disputes:
        out.append(f"<h2>{escape(t(L, 'h_disputes'))}</h2><ul>")
        for d in r.disputes:
            when = day(d.record_date, L) if d.record_date is not None else "—"
            line = t(
                L, "dispute_line", record=d.record, record_date=when, date=day(d.disputed_on, L)
            )
            out.append(f'<li>{escape(line)}<div class="written">{escape(d.reason)}</div></li>')
        out.append("</ul>")
    steps = "".join(f"<li>{escape(s.strip())}</li>" for s in t(L, "dispute_steps").split("|"))
    out.append(f"<h2>{escape(t(L, 'h_dispute'))}</h2><ol>{steps}</ol>")
    out.append(_p(t(L, "legal"), "legal"))
    return out


def render_html(report: FamilyReport) -> str:
    """Render the report as one self-contained HTML page (inline CSS, printable on A4).

    Everything that comes from data, including what people wrote, is HTML-escaped.

    Examples
    --------
    >>> from risk import example_payload
    >>> from risk.family_report import StoreView, build_family_report
    >>> p = example_payload("F-1", district="north")
    >>> view = StoreView("north", flags=({"as_of": p["as_of"], "payload": p},))
    >>> html = render_html(build_family_report(None, "F-1", store_view=view, lang="en"))
    >>> html.startswith("<!DOCTYPE html>"), "F-1" in html
    (True, True)
    """
    r, L = report, report.lang
    body = [
        f"<h1>{escape(t(L, 'title'))}</h1>",
        _p(t(L, "ref", family=r.family_id), "meta"),
        _p(t(L, "district", district=r.district), "meta"),
        _p(t(L, "made", date=day(r.prepared_on, L)), "meta"),
        _p(t(L, "intro"), "intro"),
        *_sources(r),
        *_used(r),
        *_decided(r),
        *_offered(r),
        *_after(r),
        *_disputes(r),
    ]
    title = escape(f"{t(L, 'title')} — {r.family_id}")
    return (
        f'<!DOCTYPE html>\n<html lang="{L}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
