"""In a real browser: after a decision is saved, the card's header says so, in both languages."""

from __future__ import annotations

import pytest

from tests.review_app.review_app_fakes import USERS, Served
from tests.review_app.test_browser import TEXT, browser, login_as  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser

STATUS = {"ru": ("статус: открыт", "статус: решено"), "en": ("status: open", "status: decided")}


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_header_shows_the_decided_status_after_saving(
    browser: object,  # noqa: F811 - the fixture imported above
    served: Served,
    lang: str,
) -> None:
    t = TEXT[lang]
    was, now = STATUS[lang]
    context, page = login_as(browser, served, "anna", USERS["anna"][0], lang)
    try:
        first = page.locator(".queue-table:visible [data-testid='cell-0-1']")
        first.wait_for()
        family = first.inner_text().strip()
        first.click()
        head = page.locator(f".card-head:visible:has-text('{family}')").first
        head.wait_for()
        assert was in head.inner_text()
        page.get_by_label(t["decision"]).check()
        page.locator("textarea:visible").first.fill(t["rationale"])
        page.get_by_label(t["agree"]).check()
        page.get_by_role(
            "button", name="Сохранить решение" if lang == "ru" else "Save decision"
        ).click()
        page.locator(f".decision-result:visible:has-text('{t['saved']}')").first.wait_for()
        page.locator(f".card-head:visible:has-text('{now}')").first.wait_for()
        assert was not in head.inner_text()
        # The queue (awaiting a decision) no longer lists the family.
        page.get_by_role("tab", name="Моя очередь" if lang == "ru" else "My queue").click()
        page.wait_for_timeout(500)
        table = page.locator(".queue-table:visible").inner_text()
        assert family not in table
    finally:
        context.close()
