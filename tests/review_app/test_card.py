"""The family card, the texts and the supervisor view, rendered from payloads (no server)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import features
from features._schema import SOURCE_NAMES
from review_app import _card as card
from review_app import _i18n as i18n
from review_app import _supervisor as sup
from risk import Explanation, render_contribution, validate_payload


@pytest.fixture(scope="module")
def payload(screening):  # type: ignore[no-untyped-def]
    return next(iter(screening.flag_payloads().values()))


def test_every_text_in_both_languages() -> None:
    for key in i18n.text_keys():
        ru, en = (i18n.t(lang, key) for lang in i18n.LANGS)
        assert ru and en, key
    assert i18n.DOMAIN_NAMES == features.DOMAIN_NAMES
    assert i18n.SOURCE_NAMES == SOURCE_NAMES


@pytest.mark.parametrize("which", ["screening", "fake_screening"])
def test_payload_contract(which: str, request: pytest.FixtureRequest) -> None:
    payloads = request.getfixturevalue(which).flag_payloads()
    for fid, p in payloads.items():
        assert validate_payload(p, family_id=fid) is p
        total = p["base_log_odds"] + sum(c["contribution"] for c in p["contributions"])
        assert total == pytest.approx(p["log_odds"], abs=1e-6)
        mags = [abs(c["contribution"]) for c in p["contributions"]]
        assert mags == sorted(mags, reverse=True)
        assert isinstance(p["composition"]["low_income"], bool)
        assert 0.0 < p["score"] < 1.0 and 0.0 < p["base_rate"] < 0.5


def test_real_scores_are_probabilities_not_certainties(screening) -> None:  # type: ignore[no-untyped-def]
    flagged = [p["score"] for p in screening.flag_payloads().values()]
    assert max(flagged) < 0.99 and min(flagged) >= 0.05
    assert screening.base_rate < 0.1


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_district_names_not_codes(payload, lang: str) -> None:  # type: ignore[no-untyped-def]
    head = card.family_header({"flag_id": 1, "status": "open"}, payload, lang)
    code = payload["district"]
    assert i18n.district_name(code, lang) in head and code not in head
    assert i18n.district_name("no_such_district", lang) == "no_such_district"
    late = pd.DataFrame(
        {"flag_id": [1], "family_id": ["F1"], "district": [code], "tier": ["priority"],
         "score": [0.3], "age_days": [12], "status": ["open"], "overdue": [True]}
    )  # fmt: skip
    shown = sup.overdue_table(late, lang)
    assert shown[i18n.t(lang, "col_district")].tolist() == [i18n.district_name(code, lang)]


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_card_sections(payload, lang: str) -> None:  # type: ignore[no-untyped-def]
    item = {"flag_id": 7, "status": "open"}
    head = card.family_header(item, payload, lang)
    assert payload["family_id"] in head
    assert ", ".join(map(str, payload["composition"]["children_ages"])) in head
    score = card.score_block(item, payload, lang)
    assert i18n.percent(payload["score"], lang) in score
    assert i18n.percent(payload["base_rate"], lang) in score
    text = card.explanation(payload, lang)
    for d in payload["needs"]:
        assert i18n.name(i18n.DOMAIN_NAMES, d, lang) in text
    top = payload["contributions"][0]
    assert render_contribution(top, lang, lookback_days=payload["lookback_days"]) in text
    blind = card.blind_spots(payload, lang)
    for source, seen in payload["coverage"].items():
        assert (i18n.name(i18n.SOURCE_NAMES, source, lang) in blind) == (not seen)
    services = card.services_block(payload, lang)
    assert all(s[f"name_{lang}"] in services for s in payload["services"])
    assert len(card.timeline_rows(payload, lang)) == len(payload["timeline"])
    assert len(card.timeline_figure(payload, lang).data) == len(
        {e["source"] for e in payload["timeline"]}
    )


def test_sentence_reads_like_a_person() -> None:
    entry = {
        "feature": "school_absence_days_90d",
        "value": 23.0,
        "contribution": 0.4,
        "unit": "days",
        "description_ru": features.FEATURES["school_absence_days_90d"].description_ru,
        "description_en": features.FEATURES["school_absence_days_90d"].description_en,
    }
    assert render_contribution(entry, "ru") == (
        "Дни пропусков школы без уважительной причины за 90 дней: 23 дня → повышает"
    )
    assert render_contribution({**entry, "contribution": -0.1}, "en").endswith("23 days → lowers")
    since = {
        **entry,
        "feature": "job_loss_days_since",
        "value": 1096.0,
        "description_ru": features.FEATURES["job_loss_days_since"].description_ru,
        "description_en": features.FEATURES["job_loss_days_since"].description_en,
    }
    assert render_contribution(since, "en") == (
        "Job loss: days since the most recent record: no record in the lookback → raises"
    )


def test_supervisor_fairness_over_decisions() -> None:
    rng = np.random.default_rng(0)
    n = 60
    decisions = pd.DataFrame(
        {
            "decision": rng.choice(["support_offered", "no_outreach_needed", "referred"], n),
            "agrees_with_model": rng.uniform(size=n) < 0.7,
            "score": rng.uniform(size=n),
            "district": rng.choice(["a", "b"], n),
            "tier": rng.choice(["priority", "support"], n),
            "user": rng.choice(["anna", "boris"], n),
        }
    )
    note, table, fig = sup.fairness(decisions, "en")
    assert fig is not None and len(table) == 4
    frame = sup.fairness_frame(decisions)
    outreach_a = frame.loc[frame["district"] == "a", "outreach"].mean()
    row = table[(table["Attribute"] == "District") & table["Group"].str.startswith("a")]
    assert row["Outreach"].iloc[0].startswith(i18n.percent(outreach_a, "en"))
    note, table, fig = sup.fairness(decisions.head(3), "ru")
    assert fig is None and "мало" in note
    assert sup.agreement_table(decisions, "en")["Decisions"].sum() == n


def _one_contribution(feature: str, value: float, contribution: float) -> dict:
    spec = features.FEATURES[feature]
    return {"feature": feature, "value": value, "contribution": contribution,
            "domain": spec.domain, "unit": spec.unit, "description_ru": spec.description_ru,
            "description_en": spec.description_en}  # fmt: skip


@pytest.mark.parametrize("lang", i18n.LANGS)
@pytest.mark.parametrize(
    ("feature", "value", "lookback"),
    [
        ("school_absence_days_90d", 23.0, 1095),
        ("material_aid_roubles_365d", 12500.0, 1095),
        ("job_loss_trend", -0.67, 1095),
        ("single_parent", 1.0, 1095),
        ("job_loss_days_since", 400.0, 365),  # beyond a short lookback: no record in it
        ("job_loss_days_since", 400.0, 1095),  # within the default one: 400 days
    ],
)
def test_card_and_to_text_write_the_same_line(
    lang: str, feature: str, value: float, lookback: int
) -> None:
    entry = _one_contribution(feature, value, 0.42)
    domain = entry["domain"]
    frame = pd.DataFrame([{k: entry[k] for k in entry if k != "unit"}])
    e = Explanation(
        family_id="F1", base_log_odds=-3.0, log_odds=-2.58, score=0.07, contributions=frame,
        by_domain=pd.Series({domain: 0.42}), lookback_days=lookback,
    )  # fmt: skip
    payload = {
        "contributions": [entry],
        "by_domain": {domain: 0.42},
        "lookback_days": lookback,
        "log_odds": -2.58,
    }
    (text_line,) = [x[4:] for x in e.to_text(lang).splitlines() if x.startswith("  - ")]
    plain, exact = card.explanation(payload, lang).split("<details>")
    (card_line,) = [x[2:] for x in plain.splitlines() if x[:2] == "- "]
    (exact_line,) = [x[2:] for x in exact.splitlines() if x[:2] == "- "]
    assert exact_line == render_contribution(entry, lang, lookback_days=lookback, exact=True)
    same = render_contribution(entry, lang, lookback_days=lookback, log_odds=-2.58)
    assert text_line == card_line == same
    no_record = "no record in the lookback" if lang == "en" else "нет записей за период"
    assert (no_record in card_line) == (feature.endswith("_days_since") and value > lookback)


@pytest.mark.parametrize(
    ("lang", "day"), [("ru", "3 мая 2026, 17:06"), ("en", "3 May 2026, 17:06")]
)
def test_previous_decisions_are_dated_in_the_regions_time_zone(lang: str, day: str) -> None:
    from datetime import datetime

    decisions = pd.DataFrame(
        {
            "decided_at": [datetime(2026, 5, 3, 14, 6)],  # UTC, as the store keeps it
            "user": ["anna"],
            "decision": ["referred"],
            "agrees_with_model": [True],
            "services_offered": [[]],
            "rationale": ["The family agreed to meet the school psychologist."],
        }
    )
    text = card.decisions_block(decisions, lang, {})  # type: ignore[arg-type]
    assert day in text and "2026-05-03" not in text and "14:06" not in text
