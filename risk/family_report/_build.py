"""The family report as data: what is held, what was used, who decided, what was offered.

Pure: the builder takes the family's records, what the review store holds about the family
(:class:`StoreView`) and the services catalogue, and returns a :class:`FamilyReport` of plain
sentences' ingredients. It reads no score, rank, tier or contribution from anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from features import EVENT_TYPES, SOURCE_NAMES, SOURCES
from risk.family_report._text import (
    CHANNEL_NAMES,
    DECISION_NAMES,
    FOLLOW_UP_STATUS_NAMES,
    OUTCOME_NAMES,
    ROLE_NAMES,
    STAGE_NAMES,
    Lang,
    check_lang,
    t,
    word,
)

if TYPE_CHECKING:
    from features import Records
    from risk import ServiceCatalog


@dataclass(frozen=True)
class StoreView:
    """What the review store holds about one family (see ``ReviewQueue.family_record``).

    ``flags``, ``decisions`` and ``disputes`` are as in ``risk.review.FamilyRecord``;
    ``follow_ups`` is None when the store keeps no follow-ups, else one mapping per follow-up
    (``opened_at``, ``status``, ``closed_at``, ``outcome``, ``steps``: mappings of ``kind``,
    ``happened_on``, ``channel``, ``reached``, ``service_id``, ``stage``, ``note``).
    """

    district: str
    flags: tuple[Mapping[str, Any], ...] = ()
    decisions: tuple[Mapping[str, Any], ...] = ()
    disputes: tuple[Mapping[str, Any], ...] = ()
    follow_ups: tuple[Mapping[str, Any], ...] | None = None


@dataclass(frozen=True)
class RecordType:
    """Records of one type: its description, how many, first and last date."""

    description: str
    n: int
    first: date
    last: date


@dataclass(frozen=True)
class SourceRecords:
    """One agency's records about the family."""

    name: str
    n: int
    first: date
    last: date
    types: tuple[RecordType, ...]


@dataclass(frozen=True)
class ScreeningUse:
    """Which records one screening used: the lookback window before ``as_of``."""

    as_of: date
    start: date
    lookback_days: int
    n_used: int
    n_disputed: int
    sources: tuple[str, ...]


@dataclass(frozen=True)
class OfferedService:
    """A service offered, by name and organisation."""

    name: str
    organisation: str


@dataclass(frozen=True)
class DecisionLine:
    """A person's decision, in words; ``rationale`` is their text as written."""

    decided_on: date
    decision: str
    role: str
    rationale: str
    services: tuple[OfferedService, ...]


@dataclass(frozen=True)
class DisputeLine:
    """A disputed record: what it is, its date, when it was disputed and why."""

    record: str
    record_date: date | None
    disputed_on: date
    reason: str


@dataclass(frozen=True)
class FollowUpLine:
    """What happened after an offer: when it started, its state, and its steps in words."""

    opened_on: date
    status: str
    closed_on: date | None
    outcome: str | None
    steps: tuple[str, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FamilyReport:
    """A family's own view of its data (no score, rank, tier or contribution in it)."""

    family_id: str
    lang: Lang
    district: str
    prepared_on: date
    n_members: int | None
    registered_on: date | None
    sources: tuple[SourceRecords, ...]
    screenings: tuple[ScreeningUse, ...]
    decisions: tuple[DecisionLine, ...]
    disputes: tuple[DisputeLine, ...]
    follow_ups: tuple[FollowUpLine, ...] | None = None
    awaiting: bool = field(default=False)


def _day(value: object) -> date:
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    return date(stamp.year, stamp.month, stamp.day)


def _type_description(code: str, lang: Lang, known: Mapping[str, tuple[str, str]]) -> str:
    if code in EVENT_TYPES:
        e = EVENT_TYPES[code]
        return e.description_ru if lang == "ru" else e.description_en
    if code in known:
        return known[code][0] if lang == "ru" else known[code][1]
    return t(lang, "other_type")


def _source_name(code: str, lang: Lang) -> str:
    pair = SOURCE_NAMES.get(code)
    return t(lang, "other_type") if pair is None else pair[0 if lang == "ru" else 1]


def _family_events(records: Records | None, family_id: str, view: StoreView) -> pd.DataFrame:
    """Return the family's records: from the tables, else from the screenings' timelines."""
    if records is not None:
        ev = records.events
        ev = ev.loc[ev["family_id"].astype(str) == family_id]
        return pd.DataFrame(
            {
                "event_id": ev["event_id"].astype(str).to_numpy(),
                "source": ev["source"].astype(str).to_numpy(),
                "event_type": ev["event_type"].astype(str).to_numpy(),
                "date": pd.to_datetime(ev["event_date"]).to_numpy(),
            }
        )
    seen: dict[str, tuple[str, str, str, str]] = {}
    for flag in view.flags:
        for e in flag["payload"].get("timeline", []):
            seen[str(e["event_id"])] = (str(e["source"]), str(e["event_type"]), str(e["date"]), "")
    return pd.DataFrame(
        {
            "event_id": list(seen),
            "source": [v[0] for v in seen.values()],
            "event_type": [v[1] for v in seen.values()],
            "date": pd.to_datetime([v[2] for v in seen.values()]),
        }
    )


def _sources(
    events: pd.DataFrame, lang: Lang, known: Mapping[str, tuple[str, str]]
) -> tuple[SourceRecords, ...]:
    order = {s: i for i, s in enumerate(SOURCES)}
    out = []
    for source, group in sorted(events.groupby("source"), key=lambda g: order.get(str(g[0]), 99)):
        types = tuple(
            RecordType(
                _type_description(str(code), lang, known),
                len(g),
                _day(g["date"].min()),
                _day(g["date"].max()),
            )
            for code, g in sorted(group.groupby("event_type"), key=lambda g: -len(g[1]))
        )
        out.append(
            SourceRecords(
                _source_name(str(source), lang),
                len(group),
                _day(group["date"].min()),
                _day(group["date"].max()),
                types,
            )
        )
    return tuple(out)


def _screenings(
    events: pd.DataFrame, view: StoreView, disputed: set[str], lang: Lang
) -> tuple[ScreeningUse, ...]:
    out = []
    for flag in view.flags:
        payload = flag["payload"]
        as_of = _day(flag["as_of"])
        days = int(payload.get("lookback_days", 0))
        start = as_of - timedelta(days=days)
        stamps = events["date"]
        inside = events.loc[(stamps > pd.Timestamp(start)) & (stamps <= pd.Timestamp(as_of))]
        is_disputed = inside["event_id"].isin(disputed)
        used = inside.loc[~is_disputed]
        names = tuple(_source_name(s, lang) for s in SOURCES if s in set(used["source"]))
        out.append(ScreeningUse(as_of, start, days, len(used), int(is_disputed.sum()), names))
    return tuple(out)


def _service_names(
    view: StoreView, catalog: ServiceCatalog | None, lang: Lang
) -> dict[str, OfferedService]:
    names: dict[str, OfferedService] = {}
    if catalog is not None:
        for row in catalog.services.itertuples(index=False):
            names[str(row.service_id)] = OfferedService(
                str(getattr(row, f"name_{lang}")), str(getattr(row, f"organisation_{lang}"))
            )
    for flag in view.flags:  # the payload's own names win: they are what was shown
        for s in flag["payload"].get("services", []):
            names[str(s["service_id"])] = OfferedService(
                str(s[f"name_{lang}"]), str(s[f"organisation_{lang}"])
            )
    return names


def _offered(
    ids: Sequence[str], names: Mapping[str, OfferedService], lang: Lang
) -> tuple[OfferedService, ...]:
    return tuple(names.get(str(i), OfferedService(t(lang, "unknown_service"), "")) for i in ids)


def _written(value: object) -> str | None:
    """Return a non-blank text as it is; None for blanks and missing values (None, NaN, NA)."""
    return value if isinstance(value, str) and value.strip() else None


def _follow_ups(
    view: StoreView, names: Mapping[str, OfferedService], lang: Lang
) -> tuple[FollowUpLine, ...] | None:
    if view.follow_ups is None:
        return None
    from risk.family_report._text import day

    out = []
    for fu in view.follow_ups:
        steps, notes = [], []
        for s in fu.get("steps", ()):
            when = day(_day(s["happened_on"]), lang)
            kind = str(s.get("kind", ""))
            if kind == "contact":
                reached = t(lang, "reached" if s.get("reached") else "not_reached")
                channel = word(CHANNEL_NAMES, str(s.get("channel")), lang)
                steps.append(t(lang, "contact", date=when, channel=channel, reached=reached))
            elif kind == "service":
                svc = names.get(
                    str(s.get("service_id")), OfferedService(t(lang, "unknown_service"), "")
                )
                steps.append(
                    t(
                        lang,
                        "service_step",
                        date=when,
                        service=svc.name,
                        stage=word(STAGE_NAMES, str(s.get("stage")), lang),
                    )
                )
            elif kind == "declined":
                steps.append(t(lang, "declined_step", date=when))
            else:
                continue
            note = _written(s.get("note"))
            if note is not None:
                notes.append(note)
        closing = _written(fu.get("rationale"))  # what the specialist wrote on closing
        if closing is not None:
            notes.append(closing)
        outcome = _written(fu.get("outcome"))
        closed = fu.get("closed_at")
        out.append(
            FollowUpLine(
                opened_on=_day(fu["opened_at"]),
                status=word(FOLLOW_UP_STATUS_NAMES, str(fu.get("status")), lang),
                closed_on=None if closed is None or pd.isna(closed) else _day(closed),
                outcome=None if outcome is None else word(OUTCOME_NAMES, outcome, lang),
                steps=tuple(steps),
                notes=tuple(notes),
            )
        )
    return tuple(out)


def build_family_report(
    records: Records | None,
    family_id: str,
    *,
    store_view: StoreView,
    catalog: ServiceCatalog | None = None,
    lang: str = "ru",
    district_names: Mapping[str, str] | None = None,
    record_types: Mapping[str, tuple[str, str]] | None = None,
    prepared_on: date | None = None,
) -> FamilyReport:
    """Build a family's own report of what is held about it and how it was used.

    Parameters
    ----------
    records : features.Records or None
        The record tables; None: the records the screenings showed (the payloads' timelines).
    family_id : str
        The family's reference, the only identifier the report shows.
    store_view : StoreView
        The family's queue items, decisions, disputes and follow-ups.
    catalog : risk.ServiceCatalog, optional
        For the names and organisations of services offered (the payload's own names win).
    lang : {"ru", "en"}
        Language of the report.
    district_names : mapping, optional
        District code -> name in ``lang`` (a district not in it is shown as stored).
    record_types : mapping, optional
        ``code -> (description_ru, description_en)`` of a region's own record types.
    prepared_on : date, optional
        The report's date (default: today).

    Returns
    -------
    FamilyReport

    Examples
    --------
    >>> from risk import example_payload
    >>> p = example_payload("F-1", district="north")
    >>> p["timeline"] = [{"event_id": "e1", "date": "2025-03-01", "source": "education",
    ...     "event_type": "academic_failure", "value": None, "description_ru": "",
    ...     "description_en": ""}]
    >>> view = StoreView("north", flags=({"as_of": p["as_of"], "payload": p},))
    >>> r = build_family_report(None, "F-1", store_view=view, lang="en")
    >>> r.sources[0].name, r.sources[0].types[0].description, r.screenings[0].n_used
    ('Education', 'Failed assessment or academic failure', 1)
    """
    L = check_lang(lang)
    known = dict(record_types or {})
    for flag in store_view.flags:  # descriptions the screening showed, for types we do not know
        for e in flag["payload"].get("timeline", []):
            known.setdefault(
                str(e["event_type"]), (str(e["description_ru"]), str(e["description_en"]))
            )
    events = _family_events(records, family_id, store_view)
    disputed = {str(d["event_id"]) for d in store_view.disputes}
    names = _service_names(store_view, catalog, L)
    by_id = events.set_index("event_id")
    disputes = tuple(
        DisputeLine(
            record=_type_description(str(by_id.at[str(d["event_id"]), "event_type"]), L, known)
            if str(d["event_id"]) in by_id.index
            else t(L, "dispute_unknown"),
            record_date=_day(by_id.at[str(d["event_id"]), "date"])
            if str(d["event_id"]) in by_id.index
            else None,
            disputed_on=_day(d["disputed_at"]),
            reason=str(d["reason"]),
        )
        for d in store_view.disputes
    )
    decisions = tuple(
        DecisionLine(
            decided_on=_day(d["decided_at"]),
            decision=word(DECISION_NAMES, str(d["decision"]), L),
            role=word(ROLE_NAMES, str(d["role"]), L),
            rationale=str(d["rationale"]),
            services=_offered(tuple(d.get("services_offered", ())), names, L),
        )
        for d in store_view.decisions
    )
    n_members = registered = None
    if records is not None:
        members = records.members
        n_members = int((members["family_id"].astype(str) == family_id).sum())
        fam = records.families.loc[records.families["family_id"].astype(str) == family_id]
        registered = _day(fam["registered_on"].iloc[0]) if len(fam) else None
    if prepared_on is None:
        prepared_on = datetime.now().date()
    return FamilyReport(
        family_id=family_id,
        lang=L,
        district=(district_names or {}).get(store_view.district, store_view.district),
        prepared_on=prepared_on,
        n_members=n_members,
        registered_on=registered,
        sources=_sources(events, L, known),
        screenings=_screenings(events, store_view, disputed, L),
        decisions=decisions,
        disputes=disputes,
        follow_ups=_follow_ups(store_view, names, L),
        awaiting=any(f.get("status") != "decided" for f in store_view.flags)
        or not store_view.decisions,
    )
