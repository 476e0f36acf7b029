"""In a real browser: the card's and the supervisor's charts are Plotly charts drawn by the page.

The card shows its waterfall and timeline as interactive charts (hovering a bar shows the
record behind it), titled in the interface's language; with no decisions yet, the supervisor's
fairness table says so under its real headers. Screenshots go where ``test_browser``'s go.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from review_app import _i18n as i18n
from tests.review_app.review_app_fakes import Served
from tests.review_app.test_browser import TEXT, _login, browser, shots

pytestmark = pytest.mark.browser
__all__ = ["browser", "shots"]  # the fixtures, shared with test_browser


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_card_charts_are_interactive(
    browser: object, served: Served, shots: Path, lang: i18n.Lang
) -> None:
    context, page = _login(browser, served, "anna", lang, None)
    try:
        family = page.locator(".queue-table:visible [data-testid='cell-0-1']").inner_text().strip()
        page.locator(".queue-table:visible [data-testid='cell-0-1']").click()
        page.locator(f".card-head:visible:has-text('{family}')").first.wait_for()
        charts = page.locator(".js-plotly-plot:visible")
        charts.nth(1).wait_for()
        assert charts.count() == 2  # the waterfall and the timeline, no picture of either
        waterfall = charts.first
        assert i18n.t(lang, "plot_waterfall") in waterfall.locator(".gtitle").text_content() or ""
        assert (
            i18n.t(lang, "plot_timeline") in charts.nth(1).locator(".gtitle").text_content() or ""
        )
        bar = waterfall.locator(".bars .point path").first
        bar.hover(force=True)
        hover = waterfall.locator(".hoverlayer .hovertext")
        hover.first.wait_for()
        assert (hover.first.text_content() or "").strip()
        assert page.locator("img[src^='data:image']:visible").count() == 0
        page.mouse.move(0, 0)
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / f"card_charts_{lang}.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_empty_fairness_table_says_so(
    browser: object, served: Served, shots: Path, lang: i18n.Lang
) -> None:
    assert served.queue.decisions().empty  # nothing decided in this module's store
    t = TEXT[lang]
    context, page = _login(browser, served, "sveta", lang, None)
    try:
        page.locator(f"button[role='tab']:visible:has-text('{t['supervisor']}')").click()
        page.locator(f".sup-counts:visible:has-text('{t['counts']}')").first.wait_for()
        page.get_by_text(i18n.t(lang, "sup_fairness_none")).first.wait_for()
        for key in ("col_attribute", "col_group", "col_outreach", "col_mean_score"):
            header = page.locator(f"th:visible:has-text('{i18n.t(lang, key)}')")
            assert header.count() >= 1, key
        placeholder = page.locator("th:visible").filter(has_text="3")
        assert [h for h in placeholder.all_inner_texts() if h.strip() == "3"] == []
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / f"supervisor_empty_{lang}.png"), full_page=True)
    finally:
        context.close()
