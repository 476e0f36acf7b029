"""In a real browser, both languages: the card explains in words and units, names no code.

Figures in log-odds stay folded until the specialist opens "Exact figures"; the model is named
in words; no feature name, service id or model URI reaches the page, its tooltips included;
the tier filter offers the tiers that are queued and nothing else.
"""

from __future__ import annotations

import re

import pytest

from review_app._i18n import TIER_NAMES
from risk.review import QUEUED_TIERS
from tests.review_app.review_app_fakes import Served
from tests.review_app.test_browser import _login, browser  # noqa: F401 (a fixture)
from tests.review_app.test_browser_i18n import _open_row

pytestmark = pytest.mark.browser

POINTS = {"ru": "п. п.", "en": "percentage point"}
LOG_ODDS = {"ru": "логит", "en": "log-odds"}
EXACT = {"ru": "Точные значения", "en": "Exact figures"}
MODEL = {"ru": "Модель оценки риска", "en": "Risk assessment model"}
TIER = {"ru": "Уровень", "en": "Tier"}


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_card_explains_in_words_with_the_figures_one_click_away(
    browser: object,  # noqa: F811
    served: Served,
    lang: str,
) -> None:
    context, page = _login(browser, served, "anna", lang, None)
    try:
        family = _open_row(page, 0)
        explain = page.locator(".card-explain:visible").first
        explain.get_by_text(EXACT[lang]).wait_for()
        shown = explain.inner_text()
        assert POINTS[lang] in shown
        assert LOG_ODDS[lang] not in shown  # folded away
        # Signals are named as a person would, never by their feature names.
        assert not re.search(r"\b[a-z]+_[a-z_0-9]+\b", shown), shown
        if lang == "ru":
            assert not re.search(r"[A-Za-z]", shown), shown
        explain.get_by_text(EXACT[lang]).click()
        explain.get_by_text(LOG_ODDS[lang]).first.wait_for()
        head = page.locator(f".card-head:visible:has-text('{family}')").first.inner_text()
        assert MODEL[lang] in head
        page_text = page.locator("body").inner_text()
        for code in ("models:/", "@champion", "family-distress", "svc-", "svc_"):
            assert code not in page_text
        tips = page.eval_on_selector_all(
            "[title]:not([title=''])", "els => els.map(e => e.getAttribute('title'))"
        )
        payload = served.queue.family_record(family, "anna").flags[-1]["payload"]
        ids = {str(s["service_id"]) for s in payload["services"]}
        assert ids, "the card's family has services: the check below is not empty"
        assert not [tip for tip in tips if any(i in tip for i in ids)]
        assert not [i for i in ids if i in page_text]
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_tier_filter_offers_the_queued_tiers(
    browser: object,  # noqa: F811
    served: Served,
    lang: str,
) -> None:
    context, page = _login(browser, served, "anna", lang, None)
    try:
        page.get_by_label(TIER[lang]).first.click()
        options = page.get_by_role("option").all_inner_texts()
        expected = {TIER_NAMES[x][0 if lang == "ru" else 1] for x in QUEUED_TIERS}
        assert {o.replace("✓", "").strip() for o in options} - {"Все", "All"} == expected
    finally:
        context.close()
