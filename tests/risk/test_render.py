"""The explanation text: one renderer of a contribution, in Russian and English."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from features import DEFAULT_LOOKBACK_DAYS, FEATURES
from risk import ScreeningError, format_log_odds, format_value, render_contribution
from risk._render import Lang

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
