"""In a real browser, both languages: refusals in the person's words, a language switch that
keeps the open card, the safety banner's callout, times in the region's time zone."""

from __future__ import annotations

import re
import time
from datetime import UTC, timedelta

import pytest

from review_app._i18n import when
from tests.review_app.review_app_fakes import Served
from tests.review_app.test_browser import _login, browser  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

SAVE = {"ru": "Сохранить решение", "en": "Save decision"}
SUPPORT = {"ru": "Предложена помощь", "en": "Support offered"}
REFERRED = {"ru": "Направлено в другое ведомство", "en": "Referred to another agency"}
AGREE = {"ru": "Согласен: семье нужно внимание", "en": "Agree: the family needs attention"}
RATIONALE = {
    "ru": "Семья согласилась на встречу; направили к психологу школы.",
    "en": "The family agreed to meet; referred to the school psychologist.",
}
NEEDS_SERVICES = {
    "ru": "Отметьте хотя бы одну услугу, предложенную семье.",
    "en": "Pick at least one service offered to the family.",
}


def _open_row(page, row: int) -> str:  # type: ignore[no-untyped-def]
    cell = page.locator(f".queue-table:visible [data-testid='cell-{row}-1']")
    family = str(cell.inner_text().strip())
    cell.click()
    page.locator(f".card-head:visible:has-text('{family}')").first.wait_for()
    return family


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_a_refusal_is_in_the_persons_words(browser: object, served: Served, lang: str) -> None:  # noqa: F811
    context, page = _login(browser, served, "anna", lang, None)
    try:
        _open_row(page, 2 if lang == "ru" else 3)
        page.get_by_label(SUPPORT[lang]).check()
        page.locator("textarea:visible").first.fill(RATIONALE[lang])
        page.get_by_label(AGREE[lang]).check()
        page.get_by_role("button", name=SAVE[lang]).click()
        shown = page.locator(f".decision-result:visible:has-text('{NEEDS_SERVICES[lang]}')")
        shown.first.wait_for()
        text = shown.first.inner_text()
        assert "flag" not in text and "support_offered" not in text and "_" not in text
        if lang == "ru":
            assert not re.search(r"[A-Za-z]", text), text
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_switching_language_keeps_the_open_card(
    browser: object,  # noqa: F811
    served: Served,
    lang: str,
) -> None:
    context, page = _login(browser, served, "anna", lang, None)
    other, head = ("English", "Model score") if lang == "ru" else ("Русский", "Оценка модели")
    try:
        family = _open_row(page, 1)
        page.locator("#language").get_by_text(other).click()
        # The other language's card shows the same family, in that language.
        page.locator(f".card-head:visible:has-text('{family}')").first.wait_for()
        page.locator(f".card-head:visible:has-text('{head}')").first.wait_for()
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_safety_banner_is_a_callout_in_both_languages(
    browser: object,  # noqa: F811
    served: Served,
    lang: str,
) -> None:
    context, page = _login(browser, served, "anna", lang, None)
    try:
        # The page may re-render the banner just after login: read the visible one until it is
        # stable (a detached element has no computed style), for at most 5 s.
        style: list[str] = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            banner = page.locator("#banner:visible, #banner-en:visible").first
            style = banner.evaluate(
                "e => { const s = getComputedStyle(e);"
                " return [s.borderLeftWidth, s.borderLeftStyle, s.backgroundColor]; }"
            )
            if style == ["4px", "solid", "rgb(255, 247, 224)"]:
                break
            page.wait_for_timeout(100)
        assert style == ["4px", "solid", "rgb(255, 247, 224)"]
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_times_are_in_the_regions_time_zone(browser: object, served: Served, lang: str) -> None:  # noqa: F811
    context, page = _login(browser, served, "anna", lang, None)
    try:
        family = _open_row(page, 0)
        page.get_by_label(REFERRED[lang]).check()
        page.locator("textarea:visible").first.fill(RATIONALE[lang])
        page.get_by_label(AGREE[lang]).check()
        page.get_by_role("button", name=SAVE[lang]).click()
        saved = page.locator(".decision-result:visible:has-text('✅')").first
        saved.wait_for()
        text = saved.inner_text()
        decisions = served.queue.decisions(user="anna")
        at = decisions[decisions["family_id"] == family]["decided_at"].max().to_pydatetime()
        assert "UTC" not in text
        # Novgorod keeps Moscow time, three hours ahead of the store's UTC.
        moscow = (at.replace(tzinfo=UTC) + timedelta(hours=3)).strftime("%H:%M")
        assert when(at, lang) in text and moscow in text
    finally:
        context.close()
