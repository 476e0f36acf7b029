"""The app's words: one catalogue per language, refusals without codes, CLDR formatting."""

from __future__ import annotations

import ast
import re
from datetime import date, datetime
from pathlib import Path

import pytest

import risk.review
from review_app import _i18n as i18n
from review_app._refusals import refusal, technical
from risk.messages import RISK
from risk.review import AccessDenied, InvalidDecision, ReviewError
from risk.review._decisions import check_decision

REVIEW = Path(risk.review.__file__).parent
APP = Path(i18n.__file__).parent


#: Every message catalogue of the project: the app's and risk's (explanations, family report,
#: evaluation figures).
CATALOGUES = (i18n.CATALOGUES, RISK)
PACKAGES = ("features", "risk", "training", "review_app", "family_risk")


def test_every_catalogue_of_the_project_is_complete_and_consistent() -> None:
    # Each PO file of the packages is one of the catalogues checked here...
    root = APP.parent
    files = {p for pkg in PACKAGES for p in (root / pkg).glob("locales/*/LC_MESSAGES/*.po")}
    assert files == {c.path(lang) for c in CATALOGUES for lang in c.langs}
    # ... and none has a key missing in a language, an empty text, placeholders that differ
    # between languages (a sentence never loses a figure in translation), a fuzzy entry or a
    # counted word without its language's CLDR plural categories.
    for catalogues in CATALOGUES:
        problems = catalogues.problems()
        assert problems == [], "\n".join(problems)


def test_every_key_reads_in_both_languages() -> None:
    for key in i18n.text_keys():
        ru, en = (i18n.t(lang, key) for lang in i18n.LANGS)
        assert ru.strip() and en.strip(), key
    assert set(i18n.COUNTED) == {"working_days", "signals"}
    assert [i18n.count(5, "signals", lang) for lang in i18n.LANGS] == ["5 признаков", "5 signals"]


def _raised_reasons() -> set[str]:
    reasons = set()
    for path in [*REVIEW.glob("*.py"), *APP.glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "reason" and isinstance(kw.value, ast.Constant):
                        reasons.add(str(kw.value.value))
    return reasons


def test_every_refusal_reason_raised_by_the_library_has_a_sentence() -> None:
    reasons = _raised_reasons()
    assert {"services_required", "district", "rationale_short", "changed", "no_card"} <= reasons
    keys = set(i18n.text_keys())
    assert not {r for r in reasons if f"err_{r}" not in keys}


@pytest.mark.parametrize(
    ("decision", "rationale", "services", "agrees"),
    [
        ("support_offered", "Семья просит помощи с оплатой жилья.", (), True),
        ("referred", "ok ok", (), True),
        ("referred", "Направлено к школьному психологу.", ("svc-1",), True),
        ("maybe", "Направлено к школьному психологу.", (), True),
        ("referred", "Направлено к школьному психологу.", (), None),
    ],
)
def test_a_refusal_in_russian_has_no_english_words_or_ids(
    decision: str, rationale: str, services: tuple[str, ...], agrees: object
) -> None:
    with pytest.raises(InvalidDecision) as caught:
        check_decision(109, decision, rationale, services, agrees)  # type: ignore[arg-type]
    assert caught.value.reason
    ru = refusal(caught.value, "ru")
    assert not re.search(r"[A-Za-z_]", ru), ru
    assert "109" not in ru and "svc-1" not in ru
    en = refusal(caught.value, "en")
    assert "flag" not in en and "_" not in en and "109" not in en
    # Programs (the JSON API) still get risk's exact reason after the sentence.
    assert technical(caught.value, "en").endswith(f"({caught.value})")


def test_access_is_refused_naming_the_district_not_its_code() -> None:
    exc = AccessDenied(
        "view flag 3: user 'boris' has no access to district 'valdaysky'",
        reason="district",
        params={"district": "valdaysky"},
    )
    assert refusal(exc, "ru") == "У вас нет доступа к семьям этого района: Валдайский район."
    assert "valdaysky" not in refusal(exc, "en") and "boris" not in refusal(exc, "en")


def test_an_unknown_reason_falls_back_to_its_kind() -> None:
    assert refusal(InvalidDecision("x", reason="no_such_reason"), "ru") == "Решение не принято."
    assert refusal(ReviewError("internal detail"), "en") == "Refused."


def test_numbers_percentages_and_plurals_follow_cldr() -> None:
    assert i18n.number(1234567, "ru") == "1\u00a0234\u00a0567"
    assert i18n.number(1234567, "en") == "1,234,567"
    assert i18n.percent(0.5, "ru") == "50\u00a0%" and i18n.percent(0.05, "en") == "5.0%"
    forms = {"one": "семья", "few": "семьи", "many": "семей", "other": "семьи"}
    words = [i18n.plural(n, "ru", forms) for n in (1, 3, 5, 11, 14, 21, 101, 111, 2.5)]
    assert words == [
        "семья",
        "семьи",
        "семей",
        "семей",
        "семей",
        "семья",
        "семья",
        "семей",
        "семьи",
    ]


def test_months_are_named_in_the_language() -> None:
    ru = [i18n.month_label(date(2026, m, 1), "ru") for m in (5, 9)]
    en = [i18n.month_label(date(2026, m, 1), "en") for m in (5, 9)]
    assert ru == ["май 2026", "сент. 2026"] and en == ["May 2026", "Sep 2026"]


def test_times_are_shown_in_the_regions_time_zone() -> None:
    at = datetime(2026, 11, 12, 14, 6)  # naive: UTC, as the store keeps it
    assert i18n.when(at, "ru") == "12 ноября 2026, 17:06"  # the default region: Moscow time
    assert i18n.when(at, "en", zone="Asia/Yekaterinburg") == "12 November 2026, 19:06"
    try:
        i18n.use_timezone("Asia/Vladivostok")
        assert i18n.when(at, "en").endswith("00:06") and "UTC" not in i18n.when(at, "en")
    finally:
        i18n.use_timezone(None)
    assert i18n.timezone_name() == "Europe/Moscow"


@pytest.mark.parametrize(
    "uri", ["models:/family-distress@champion", "models:/family-distress/3", "family-distress@1"]
)
def test_the_model_is_named_not_addressed(uri: str) -> None:
    for lang in i18n.LANGS:
        label = i18n.model_label(uri, lang)
        assert "models:/" not in label and "family-distress" not in label and "@" not in label


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_timeline_names_months_in_the_language(lang: str) -> None:
    from review_app import _card as card

    timeline = [
        {
            "event_id": f"E{m}",
            "date": f"2026-{m:02d}-15",
            "source": "education",
            "event_type": "school_absence",
            "value": 1.0,
            "description_ru": "Пропуски",
            "description_en": "Absence",
        }
        for m in range(1, 13)
    ]
    fig = card.timeline_figure({"as_of": "2026-12-31", "timeline": timeline}, lang)  # type: ignore[arg-type]
    # The chart is drawn in the browser (Plotly): its month ticks are the labels we give it.
    labels = " ".join(str(x) for x in fig.layout.xaxis.ticktext)
    english = re.findall(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b", labels)
    if lang == "ru":
        assert not english and re.search(r"[а-я]", labels), labels
    else:
        assert english, labels
