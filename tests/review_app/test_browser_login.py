"""In a real browser: the login form and the app after it speak the person's language."""

from __future__ import annotations

import pytest

from tests.review_app.review_app_fakes import USERS, Served
from tests.review_app.test_browser import MY_QUEUE, browser  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

LOCALE = {"ru": "ru-RU", "en": "en-US"}
FORM = {
    "ru": ("Имя пользователя", "Пароль", "Войти", "Неверные учетные данные"),
    "en": ("username", "password", "Login", "Incorrect Credentials"),
}


def _open(chromium: object, served: Served, lang: str, path: str = "/"):  # type: ignore[no-untyped-def]
    context = chromium.new_context(  # type: ignore[attr-defined]
        locale=LOCALE[lang], viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(served.url.rstrip("/") + path)
    page.locator("input").nth(1).wait_for()
    return context, page


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_login_form_and_its_refusal_are_in_the_browsers_language(
    browser: object,  # noqa: F811
    served: Served,
    lang: str,
) -> None:
    user_label, password_label, button, refused = FORM[lang]
    other = FORM["en" if lang == "ru" else "ru"]
    context, page = _open(browser, served, lang)
    try:
        page.get_by_text(user_label, exact=True).wait_for()
        page.get_by_text(password_label, exact=True).wait_for()
        assert page.get_by_role("button", name=button, exact=True).is_visible()
        assert page.get_by_text(other[0], exact=True).count() == 0
        # A wrong login is refused in the same language (an unknown name: no one is locked out).
        page.locator("input").nth(0).fill("nobody-here")
        page.locator("input").nth(1).fill("not-a-password")
        page.keyboard.press("Enter")
        page.get_by_text(refused).wait_for()
        # Then the app opens in that language without touching the switch.
        page.locator("input").nth(0).fill("anna")
        page.locator("input").nth(1).fill(USERS["anna"][0])
        page.keyboard.press("Enter")
        page.get_by_role("tab", name=MY_QUEUE[lang]).first.wait_for()
        page.locator(".queue-table:visible [data-testid='cell-0-0']").wait_for()
        assert not page.get_by_role(
            "tab", name=MY_QUEUE["en" if lang == "ru" else "ru"]
        ).first.is_visible()
    finally:
        context.close()


def test_the_address_overrides_the_browsers_language(browser: object, served: Served) -> None:  # noqa: F811
    context, page = _open(browser, served, "ru", "/?lang=en")
    try:
        page.locator("input").nth(0).fill("anna")
        page.locator("input").nth(1).fill(USERS["anna"][0])
        page.keyboard.press("Enter")
        page.get_by_role("tab", name=MY_QUEUE["en"]).first.wait_for()
        page.get_by_role("tab", name=MY_QUEUE["ru"]).first.wait_for(state="hidden")
    finally:
        context.close()
