"""The family's own report: what is held and used, who decided, what was offered, no score."""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from features import Records, load_records
from risk import example_payload, load_catalog, validate_payload
from risk.family_report import (
    StoreView,
    build_family_report,
    produce_family_report,
    render_html,
    render_pdf,
    write_family_report,
)
from risk.review import AccessDenied, ReviewQueue, UnknownItem

SAMPLE = Path(__file__).parents[2] / "data" / "synthetic" / "sample"
AS_OF = "2025-06-30"
LOOKBACK = 365
# Numbers of the screening that must never reach the family's report.
SCORE, LOG_ODDS, RANK, CONTRIBUTION = 0.7312, 1.0013, 17, 0.4871
HOSTILE = "Семья просила <form><input type=password> и <img src=http://x> — проверено."


class Run:
    """One scored, flagged family, as ``risk.review.ScreeningLike``."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload
        self.scores = pd.DataFrame(
            {
                "family_id": [payload["family_id"]],
                "district": [payload["district"]],
                "score": [SCORE],
                "log_odds": [LOG_ODDS],
                "tier": ["priority"],
                "flagged": [True],
                "rank_in_district": [RANK],
                "model_version": "family-distress@3",
                "as_of": AS_OF,
                "advisory": "Advisory only.",
            }
        )

    def flag_payloads(self) -> dict[str, dict[str, Any]]:
        return {self.payload["family_id"]: self.payload}


@pytest.fixture(scope="module")
def records() -> Records:
    return load_records(SAMPLE)


@pytest.fixture(scope="module")
def family(records: Records) -> str:
    """A family of Veliky Novgorod with records from several agencies in the lookback."""
    ev = records.events.merge(records.families[["family_id", "district"]], on="family_id")
    ev = ev.loc[ev["district"] == "velikiy_novgorod"]
    recent = ev.loc[ev["event_date"] > pd.Timestamp(AS_OF) - pd.Timedelta(days=LOOKBACK)]
    n_sources = recent.groupby("family_id")["source"].nunique()
    return str(n_sources.loc[n_sources >= 3].index[0])


def payload_of(records: Records, family_id: str) -> dict[str, Any]:
    ev = records.events.loc[records.events["family_id"] == family_id]
    ev = ev.loc[
        (ev["event_date"] > pd.Timestamp(AS_OF) - pd.Timedelta(days=LOOKBACK))
        & (ev["event_date"] <= pd.Timestamp(AS_OF))
    ].sort_values("event_date")
    p: dict[str, Any] = dict(example_payload(family_id, district="velikiy_novgorod"))
    catalog = load_catalog().services
    svc = catalog.loc[catalog["districts"].map(lambda d: "velikiy_novgorod" in d)].iloc[0]
    p.update(
        score=SCORE,
        log_odds=LOG_ODDS,
        base_log_odds=LOG_ODDS - CONTRIBUTION,
        rank_in_district=RANK,
        lookback_days=LOOKBACK,
        contributions=[
            {
                "feature": "school_absence_days_12m",
                "value": 11.0,
                "contribution": CONTRIBUTION,
                "domain": "education",
                "unit": "days",
                "description_ru": "Пропуски",
                "description_en": "Absences",
            }
        ],
        services=[
            {
                "service_id": str(svc["service_id"]),
                "name_ru": str(svc["name_ru"]),
                "name_en": str(svc["name_en"]),
                "organisation_ru": str(svc["organisation_ru"]),
                "organisation_en": str(svc["organisation_en"]),
                "category": str(svc["category"]),
                "domains": list(svc["domains"]),
                "relevance": 0.9,
            }
        ],
        timeline=[
            {
                "event_id": str(e.event_id),
                "date": str(pd.Timestamp(e.event_date).date()),
                "source": str(e.source),
                "event_type": str(e.event_type),
                "value": None if pd.isna(e.value) else float(e.value),
                "description_ru": "",
                "description_en": "",
            }
            for e in ev.itertuples()
        ],
    )
    validate_payload(p)
    return p


def decided_store(url: str, records: Records, family_id: str) -> tuple[ReviewQueue, dict]:
    """A store where ``anna`` offered the family a service and disputed one of its records."""
    q = ReviewQueue(url)
    q.add_user("anna", "correct horse", "specialist", ["velikiy_novgorod"])
    q.add_user("boris", "correct horse", "specialist", ["valdaysky"])
    p = payload_of(records, family_id)
    q.enqueue(Run(p), "run-1")
    flag = int(q.items(user="anna")["flag_id"].iloc[0])
    q.record_decision(
        flag, "anna", "support_offered", HOSTILE, [p["services"][0]["service_id"]],
        agrees_with_model=True,
    )  # fmt: skip
    q.dispute(p["timeline"][0]["event_id"], "anna", "Это не наша семья.", family_id=family_id)
    return q, p


@pytest.fixture
def store(tmp_path: Path, records: Records, family: str) -> tuple[ReviewQueue, dict]:
    return decided_store(f"sqlite:///{tmp_path / 'review.db'}", records, family)


def pdf_strings(data: bytes) -> str:
    """The PDF's text strings (metadata, outline), from its compressed object streams too."""
    chunks = [data]
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            chunks.append(zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    found = []
    for chunk in chunks:
        found += [bytes.fromhex(h.decode()).decode("utf-16") for h in
                  re.findall(rb"<(feff(?:[0-9a-f]{4})+)>", chunk, re.I)]  # fmt: skip
        found += [s.decode("latin-1") for s in re.findall(rb"\(([^()]*)\)", chunk)]
    return "\n".join(found)


def visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_lists_sources_and_record_types_in_words(store, records, family, lang):
    q, _ = store
    report = produce_family_report(q, family, "anna", records=records, lang=lang)
    html = render_html(report)
    ev = records.events.loc[records.events["family_id"] == family]
    from features import EVENT_TYPES, SOURCE_NAMES

    i = 0 if lang == "ru" else 1
    for source in ev["source"].unique():
        assert SOURCE_NAMES[source][i] in html
    for code in ev["event_type"].unique():
        e = EVENT_TYPES[code]
        assert (e.description_ru if lang == "ru" else e.description_en) in html
        assert code not in visible_text(html)  # never the raw codes
    assert sum(s.n for s in report.sources) == len(ev)
    assert family in html
    assert "anna" not in html  # the role, never the user name


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_no_score_rank_tier_or_contribution(store, records, family, lang):
    q, _ = store
    html = render_html(produce_family_report(q, family, "anna", records=records, lang=lang))
    for number in (SCORE, LOG_ODDS, CONTRIBUTION, LOG_ODDS - CONTRIBUTION):
        for text in (f"{number}", f"{number:.2f}", f"{number:.2f}".replace(".", ",")):
            assert text not in html
    assert f"{SCORE * 100:.0f}%" not in html
    words = visible_text(html).lower()
    for w in ("score", "rank", "tier", "probab", "log-odds", "priority", "оценк", "вероятн",
              "ранг", "приоритет", "уровень"):  # fmt: skip
        assert w not in words
    assert f"№{RANK}" not in words and f"no. {RANK}" not in words


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_what_was_used_decided_and_offered(store, records, family, lang):
    q, p = store
    report = produce_family_report(q, family, "anna", records=records, lang=lang)
    (used,) = report.screenings
    assert used.lookback_days == LOOKBACK
    assert used.n_used == len(p["timeline"]) - 1 and used.n_disputed == 1
    (decision,) = report.decisions
    assert decision.role == ("специалист" if lang == "ru" else "specialist")
    assert decision.decision == (
        "предложить семье помощь" if lang == "ru" else "offer the family help"
    )
    svc = p["services"][0]
    assert [(s.name, s.organisation) for s in decision.services] == [
        (svc[f"name_{lang}"], svc[f"organisation_{lang}"])
    ]
    html = render_html(report)
    assert svc[f"name_{lang}"] in html.replace("&quot;", '"').replace("&#x27;", "'")
    assert ("152-ФЗ" if lang == "ru" else "152-FZ") in html
    # The offer opened a follow-up in the store: the report says it is under way.
    (follow_up,) = report.follow_ups or ()
    assert follow_up.status == ("идёт" if lang == "ru" else "under way")
    assert follow_up.closed_on is None and follow_up.outcome is None
    assert (
        "Что было после предложения" if lang == "ru" else "What happened after the offer"
    ) in html


def test_rationale_is_escaped(store, records, family):
    q, _ = store
    html = render_html(produce_family_report(q, family, "anna", records=records, lang="en"))
    assert "<form" not in html and "<input" not in html and "<img" not in html
    assert "&lt;form&gt;&lt;input type=password&gt;" in html
    assert "&lt;img src=http://x&gt;" in html


def test_refuses_another_district_and_audits(store, family):
    q, _ = store
    with pytest.raises(AccessDenied, match="valdaysky|velikiy_novgorod"):
        produce_family_report(q, family, "boris", lang="ru")
    log = q.audit_log()
    assert log["action"].iloc[-1] == "access_denied"
    assert "family_report" not in set(log["action"])
    produce_family_report(q, family, "anna", lang="ru")
    last = q.audit_log().iloc[-1]
    assert (last["action"], last["actor"], last["subject"]) == (
        "family_report",
        "anna",
        f"family {family}",
    )
    assert q.verify_audit_log().ok
    with pytest.raises(UnknownItem):
        produce_family_report(q, "no-such-family", "anna")


def test_without_records_uses_what_the_screening_showed(store, family):
    q, p = store
    report = produce_family_report(q, family, "anna", lang="en")
    assert sum(s.n for s in report.sources) == len(p["timeline"])
    assert report.n_members is None


def test_follow_up_section_shows_when_the_store_keeps_follow_ups(store, records, family):
    q, p = store

    class WithFollowUps:
        """The store as it will be once it keeps what happened after the offer."""

        def __getattr__(self, name: str) -> Any:
            return getattr(q, name)

        def follow_ups(self, *, family_id: str, user: str) -> pd.DataFrame:
            return pd.DataFrame(
                {
                    "followup_id": [1],
                    "opened_at": [pd.Timestamp("2025-07-02")],
                    "status": ["closed"],
                    "closed_at": [pd.Timestamp("2025-09-01")],
                    "outcome": ["completed"],
                    "rationale": ["Семья довольна <b>занятиями</b>."],
                }
            )

        def follow_up_events(self, followup_id: int, user: str) -> pd.DataFrame:
            return pd.DataFrame(
                {
                    "kind": ["contact", "service"],
                    "happened_on": [pd.Timestamp("2025-07-03"), pd.Timestamp("2025-07-10")],
                    "channel": ["phone", None],
                    "reached": [True, None],
                    "service_id": [None, p["services"][0]["service_id"]],
                    "stage": [None, "started"],
                    "note": ["<script>alert(1)</script>", float("nan")],
                }
            )

    report = produce_family_report(WithFollowUps(), family, "anna", lang="en")  # type: ignore[arg-type]
    html = render_html(report)
    assert "What happened after the offer" in html
    assert "contact by phone; the family was reached" in html
    assert "Closed on 1 September 2025: help was given." in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;занятиями&lt;/b&gt;" in html and "nan" not in visible_text(html)


def test_pdf_starts_with_pdf_and_names_the_family(store, records, family, tmp_path):
    q, _ = store
    report = produce_family_report(q, family, "anna", records=records, lang="ru")
    data = render_pdf(report, tmp_path / "r.pdf")
    assert data.startswith(b"%PDF")
    assert family in pdf_strings(data)
    assert (tmp_path / "r.pdf").read_bytes() == data


def test_pure_builder_needs_no_store():
    p = example_payload("F-9", district="north")
    view = StoreView("north", flags=({"as_of": AS_OF, "status": "open", "payload": p},))
    report = build_family_report(None, "F-9", store_view=view, lang="ru")
    assert report.sources == () and report.awaiting
    assert "Сведения о семье ещё" not in render_html(report)
    assert "Записей ведомств о семье нет." in render_html(report)


def test_write_refuses_other_suffixes(store, family, tmp_path):
    from features import InputError

    q, _ = store
    report = produce_family_report(q, family, "anna", lang="en")
    with pytest.raises(InputError, match=r"\.html or \.pdf"):
        write_family_report(report, tmp_path / "r.docx")


def test_cli_writes_html_and_pdf(store, family, tmp_path):
    from risk.commands import family_report

    app = typer.Typer()
    app.callback()(lambda: None)  # a group, so the command is called by its name
    family_report.register(app)
    q, _ = store
    runner = CliRunner()
    for out, lang in ((tmp_path / "r.html", "en"), (tmp_path / "r.pdf", "ru")):
        result = runner.invoke(
            app,
            ["family-report", family, "--data", str(SAMPLE), "--store", q.url, "--user", "anna",
             "--lang", lang, "--out", str(out)],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert out.exists() and str(out) in result.output
    assert "Agency" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    refused = runner.invoke(
        app,
        ["family-report", family, "--store", q.url, "--user", "boris", "--out",
         str(tmp_path / "x.html")],
    )  # fmt: skip
    assert refused.exit_code == 2 and "no access" in refused.output
    assert not (tmp_path / "x.html").exists()
    n_audited = len(q.audit_log())
    for bad in (["--lang", "de", "--out", str(tmp_path / "y.html")], ["--out", "y.docx"]):
        result = runner.invoke(
            app, ["family-report", family, "--store", q.url, "--user", "anna", *bad]
        )
        assert result.exit_code == 2, result.output
    assert len(q.audit_log()) == n_audited  # refused before anything was read
