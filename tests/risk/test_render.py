"""The explanation text: one renderer of a contribution, in Russian and English."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from features import DEFAULT_LOOKBACK_DAYS, FEATURES
from risk import (
    ScreeningError,
    format_log_odds,
    format_points,
    format_value,
    percentage_points,
    render_contribution,
)
from risk._render import LANGS, Lang

NO_RECORD = {"ru": "нет записей за период наблюдения", "en": "no record in the lookback"}


@given(
    value=st.integers(0, 5000),
    lookback=st.integers(30, 3000),
    lang=st.sampled_from(["ru", "en"]),
)
def test_a_recency_beyond_the_lookback_is_no_record(value: int, lookback: int, lang: Lang) -> None:
    text = format_value(value, "days", lang, feature="job_loss_days_since", lookback_days=lookback)
    assert (text == NO_RECORD[lang]) == (value > lookback)
    # Only recency features have a fill value: a count of days is always a count.
    plain = format_value(
        value, "days", lang, feature="school_absence_days_90d", lookback_days=lookback
    )
    assert plain != NO_RECORD[lang]


def test_the_default_lookback_is_the_features_one() -> None:
    fill = DEFAULT_LOOKBACK_DAYS + 1
    assert format_value(fill, "days", "en", feature="job_loss_days_since") == NO_RECORD["en"]
    assert format_value(fill - 1, "days", "en", feature="job_loss_days_since") == "1,095 days"


@pytest.mark.parametrize(
    ("n", "ru", "en"),
    [
        (1, "1 день", "1 day"),
        (2, "2 дня", "2 days"),
        (5, "5 дней", "5 days"),
        (11, "11 дней", "11 days"),
        (21, "21 день", "21 days"),
        (22, "22 дня", "22 days"),
        (112, "112 дней", "112 days"),
        (1.5, "1,5 дня", "1.5 days"),
        (1021, "1\u00a0021 день", "1,021 days"),
    ],
)
def test_plural_forms_and_numbers(n: float, ru: str, en: str) -> None:
    assert format_value(n, "days", "ru") == ru
    assert format_value(n, "days", "en") == en


def test_units() -> None:
    assert format_value(3, "count", "ru") == "3 записи"
    assert format_value(2, "years", "en") == "2 years"
    assert format_value(12500.0, "roubles", "en") == "12,500 roubles"
    assert format_value(12500.0, "roubles", "ru") == "12\u00a0500 рублей"
    assert format_value(0.25, "per 90 days", "ru") == "+0,2 за 90 дней"
    assert format_value(0.0, "flag", "ru") == "нет"
    assert format_value(7, "units nobody knows", "en") == "7"
    assert format_value(float("nan"), "count", "ru") == "—"
    assert format_log_odds(-0.125, "ru") == "-0,12" and format_log_odds(2, "en") == "+2.00"


def test_descriptions_lose_only_the_fill_note() -> None:
    def entry(feature: str) -> dict[str, object]:
        spec = FEATURES[feature]
        return {
            "feature": feature,
            "value": 1.0,
            "contribution": -0.2,
            "unit": spec.unit,
            "description_ru": spec.description_ru,
            "description_en": spec.description_en,
        }

    since = render_contribution(entry("job_loss_days_since"), "en")
    assert since == "Job loss: days since the most recent record: 1 day → lowers"
    large = render_contribution(entry("large_family"), "en", effect=False)
    assert large == "Large family (3 or more children under 18): yes"
    assert render_contribution(entry("large_family"), "ru").endswith(": да → понижает")


def test_only_two_languages() -> None:
    with pytest.raises(ScreeningError, match="lang must be 'ru' or 'en'; got 'de'"):
        format_value(1, "days", "de")  # type: ignore[arg-type]
    with pytest.raises(ScreeningError, match="lang"):
        format_log_odds(1.0, "fr")  # type: ignore[arg-type]


# Unit words a rendered value may carry, per language: what each kind of feature counts.
UNIT_WORDS = {
    "records": ({"запись", "записи", "записей"}, {"record", "records"}),
    "children": ({"ребёнок", "ребёнка", "детей"}, {"child", "children"}),
    "days": ({"день", "дня", "дней"}, {"day", "days"}),
    "roubles": ({"рубль", "рубля", "рублей"}, {"rouble", "roubles"}),
    "years": ({"год", "года", "лет"}, {"year", "years"}),
    "months": ({"месяц", "месяца", "месяцев"}, {"month", "months"}),
}
RECORD_WORDS = UNIT_WORDS["records"][0] | UNIT_WORDS["records"][1]


def _expected_unit(feature: str, unit: str) -> str | None:
    if unit == "count":
        # Record counts are named for a window ("..._n_90d"); any other count counts people.
        return "records" if re.search(r"_n_\d+d$", feature) else "children"
    if unit == "per 90 days":  # a trend compares counts of records
        return "records"
    return unit if unit in UNIT_WORDS else None


@pytest.mark.parametrize("feature", sorted(FEATURES))
@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("value", [1.0, 3.0, 5.0])
def test_every_feature_is_said_in_its_own_unit(feature: str, lang: Lang, value: float) -> None:
    spec = FEATURES[feature]
    entry = {
        "feature": feature,
        "value": value,
        "contribution": 0.3,
        "unit": spec.unit,
        "description_ru": spec.description_ru,
        "description_en": spec.description_en,
    }
    text = render_contribution(entry, lang, effect=False)
    said = text.rsplit(": ", 1)[1]
    words = set(said.split())
    expected = _expected_unit(feature, spec.unit)
    if expected is not None:
        assert words & UNIT_WORDS[expected][LANGS.index(lang)], (feature, said)
    if expected != "records":
        assert not words & RECORD_WORDS, (feature, said)
    if spec.unit == "flag":
        assert said in ({"да", "нет"} if lang == "ru" else {"yes", "no"})
    if spec.unit == "per 90 days":
        # A trend is said in words, the definition ("minus the 90-day average") left out.
        assert "minus" not in text and "минус" not in text
        assert ("больше обычного" if lang == "ru" else "more records than usual") in said


def test_children_are_counted_as_children() -> None:
    assert format_value(3, "count", "en", feature="n_children") == "3 children"
    assert format_value(1, "count", "ru", feature="n_children") == "1 ребёнок"
    assert format_value(5, "count", "ru", feature="n_children") == "5 детей"


@pytest.mark.parametrize(
    ("value", "ru", "en"),
    [
        (-0.7, "меньше обычного", "fewer records than usual"),
        (0.0, "столько же, сколько обычно", "as many records as usual"),
        (1.3, "больше обычного", "more records than usual"),
    ],
)
def test_a_trend_is_said_in_words_with_the_exact_value_on_request(
    value: float, ru: str, en: str
) -> None:
    spec = FEATURES["school_absence_trend"]
    entry = {
        "feature": "school_absence_trend",
        "value": value,
        "contribution": -0.1,
        "unit": spec.unit,
        "description_ru": spec.description_ru,
        "description_en": spec.description_en,
    }
    assert ru in render_contribution(entry, "ru")
    plain = render_contribution(entry, "en")
    assert en in plain and "per 90 days" not in plain
    exact = render_contribution(entry, "en", exact=True)
    assert "per 90 days" in exact and "log-odds -0.10" in exact


@given(
    contribution=st.floats(-4, 4, allow_nan=False),
    others=st.floats(-6, 6, allow_nan=False),
)
def test_percentage_points_are_the_exact_change_in_probability(
    contribution: float, others: float
) -> None:
    log_odds = others + contribution
    pp = percentage_points(contribution, log_odds)
    with_it, without = 1 / (1 + math.exp(-log_odds)), 1 / (1 + math.exp(-others))
    assert pp == pytest.approx(100 * (with_it - without), abs=1e-9)
    assert (pp > 0) == (contribution > 0) or abs(pp) < 1e-9


def test_the_effect_is_said_in_percentage_points() -> None:
    entry = {
        "feature": "school_absence_days_90d",
        "value": 23.0,
        "contribution": 0.5,
        "unit": "days",
        "description_ru": "Пропуски",
        "description_en": "Absence",
    }
    assert render_contribution(entry, "en", log_odds=0.0) == (
        "Absence: 23 days → raises the estimate by 12.2 percentage points"
    )
    assert render_contribution(entry, "ru", log_odds=0.0) == (
        "Пропуски: 23 дня → повышает оценку на 12,2 п. п."
    )
    assert format_points(0.01, "ru") == "<0,1 п. п."
