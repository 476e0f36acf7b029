"""The interactive charts of the card and the supervisor view (Plotly figures, no server)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from review_app import _charts as charts
from review_app import _i18n as i18n
from review_app import _supervisor as sup
from risk import render_contribution


@pytest.fixture(scope="module")
def payload(screening):
    return next(iter(screening.flag_payloads().values()))


def _bars(fig) -> list[tuple[float, float, float]]:
    """(y, start, value) of every waterfall bar."""
    out = []
    for tr in fig.data:
        if tr.type == "bar":
            out += list(zip(tr.y, tr.base, tr.x, strict=True))
    return sorted(out, key=lambda b: -b[0])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=40),
    st.floats(-5, 1),
)
def test_waterfall_ends_at_the_family_log_odds(values: list[float], base: float) -> None:
    order = np.argsort(-np.abs(values), kind="stable")
    contributions = [
        {
            "feature": f"f{i}",
            "value": 1.0,
            "contribution": values[i],
            "domain": "safety",
            "unit": "count",
            "description_ru": "п",
            "description_en": "f",
        }
        for i in order
    ]
    payload = {
        "base_log_odds": base,
        "log_odds": base + sum(values),
        "contributions": contributions,
    }
    bars = _bars(charts.waterfall(payload, "en"))
    assert len(bars) == min(len(values), charts.TOP_FEATURES) + (len(values) > charts.TOP_FEATURES)
    assert bars[0][1] == pytest.approx(base)
    _, start, value = bars[-1]
    assert start + value == pytest.approx(base + sum(values), abs=1e-9)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_waterfall_labels_whole_legend_clear_hover_has_the_record(payload, lang) -> None:
    fig = charts.waterfall(payload, lang)
    lookback = payload.get("lookback_days")
    top = payload["contributions"][: charts.TOP_FEATURES]
    ticks = [s.replace("<br>", " ") for s in fig.layout.yaxis.ticktext]
    for c, label in zip(top, ticks, strict=False):
        # Wrapped, never cut: the whole sentence with its value is the label.
        assert label == render_contribution(c, lang, lookback_days=lookback, effect=False)
        assert "…" not in label
    hovers = [
        row[0].replace("<br>", " ") for tr in fig.data if tr.type == "bar" for row in tr.customdata
    ]
    assert render_contribution(top[0], lang, lookback_days=lookback) in hovers
    # The legend is below the plotting area, so it cannot cover a bar.
    assert fig.layout.legend.y < 0 and fig.layout.legend.yanchor == "top"
    assert fig.layout.title.text == i18n.t(lang, "plot_waterfall")
    assert fig.layout.xaxis2.ticktext and all("%" in x for x in fig.layout.xaxis2.ticktext)
    json.loads(fig.to_json())  # what the browser is sent


def test_timeline_months_in_the_language_and_hover_shows_the_record(payload) -> None:
    event = {
        "event_id": "E1",
        "date": "2025-05-14",
        "source": "education",
        "event_type": "school_absence",
        "value": 7.0,
        "description_ru": "Пропуски",
        "description_en": "Absence",
    }
    p = {"as_of": "2025-09-30", "timeline": [event]}
    ru, en = charts.timeline(p, "ru"), charts.timeline(p, "en")
    assert "май 2025" in ru.layout.xaxis.ticktext and "May 2025" in en.layout.xaxis.ticktext
    assert "сент. 2025" in ru.layout.xaxis.ticktext
    assert list(ru.data[0].customdata[0]) == ["14 мая 2025\u202fг.", "Пропуски", "7,0"]
    full = charts.timeline(payload, "en")
    assert sum(len(tr.x) for tr in full.data) == len(payload["timeline"])
    empty = charts.timeline({"timeline": []}, "en")
    assert [a.text for a in empty.layout.annotations] == ["No data"]


def test_counts_have_whole_ticks() -> None:
    fig = charts.counts_bar({"Referred": 3, "No outreach": 1}, "t", "ru")
    assert fig.layout.xaxis.dtick == 1 and fig.layout.xaxis.tickformat == "d"
    # CLDR groups Russian thousands with a no-break space.
    assert charts.counts_bar({"a": 1234}, "t", "ru").data[0].text == ("1\xa0234",)
    # Axis numbers use the language's separators too (0,6 in Russian).
    assert fig.layout.separators == ", "
    assert charts.counts_bar({"a": 1}, "t", "en").layout.separators == ".,"
    assert [charts._count_step(n) for n in (1, 6, 7, 40, 1000)] == [1, 1, 2, 10, 200]
    empty = charts.counts_bar({}, "t", "en")
    assert not empty.data and empty.layout.annotations[0].text == "No data"


def test_fairness_chart_and_empty_table_with_real_headers() -> None:
    rng = np.random.default_rng(1)
    n = 40
    decisions = pd.DataFrame(
        {
            "decision": rng.choice(["support_offered", "no_outreach_needed", "referred"], n),
            "agrees_with_model": rng.uniform(size=n) < 0.7,
            "score": rng.uniform(size=n),
            "district": rng.choice(["valdaysky", "borovichsky"], n),
            "tier": rng.choice(["priority", "support"], n),
        }
    )
    note, table, fig = sup.fairness(decisions, "ru")
    assert fig is not None and len(fig.data) == len(sup.FAIRNESS_METRICS)
    assert {tr.name for tr in fig.data} == {
        i18n.t("ru", "col_outreach"),
        i18n.t("ru", "col_agreement"),
        i18n.t("ru", "col_mean_score"),
    }
    assert any("Валдайский район" in y for y in fig.data[0].y)
    assert list(table.columns) == list(sup.fairness_headers("ru").columns)
    note, empty, fig = sup.fairness(decisions.head(3), "en")
    assert fig is None and note == i18n.t("en", "sup_fairness_none")
    assert empty.empty and list(empty.columns) == [
        "Attribute",
        "Group",
        "Decisions",
        "Outreach",
        "Agreement",
        "Mean score",
    ]


@pytest.mark.parametrize(
    ("baseline", "lang", "label"),
    [
        ("typical", "ru", "Типичная семья"),
        ("typical", "en", "Typical family"),
        ("average", "en", "Average family"),
    ],
)
def test_the_waterfall_starts_at_the_family_it_is_measured_against(
    baseline: str, lang: str, label: str
) -> None:
    p = {
        "base_log_odds": -2.0,
        "log_odds": -1.0,
        "baseline": baseline,
        "contributions": [
            {"feature": "n_children", "value": 3.0, "contribution": 1.0, "domain": "material",
             "unit": "count", "description_ru": "Дети", "description_en": "Children"},
        ],
    }  # fmt: skip
    texts = [a.text for a in charts.waterfall(p, lang).layout.annotations]  # type: ignore[arg-type]
    assert label in texts
