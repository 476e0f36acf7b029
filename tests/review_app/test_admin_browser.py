"""In a real browser: the Administration tab is there for admins only, and works."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.review_app.review_app_fakes import USERS, Served
from tests.review_app.test_browser import browser, login_as, shots  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

PASSWORD = "root-password-1"
TAB = {"ru": "Администрирование", "en": "Administration"}


@pytest.fixture(scope="module")
def root(served: Served) -> str:
    served.queue.add_user("root", PASSWORD, "admin", [])
    return "root"


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_an_admin_disables_a_user_from_the_tab(
    browser: object,  # noqa: F811 - the fixture imported above
    served: Served,
    root: str,
    lang: str,
    shots: Path,  # noqa: F811 - the fixture imported above
) -> None:
    context, page = login_as(browser, served, root, PASSWORD, lang)
    try:
        page.locator(f"button[role='tab']:visible:has-text('{TAB[lang]}')").click()
        page.locator(".admin-users:visible").get_by_text("boris", exact=True).first.wait_for()
        page.get_by_label("Имя для входа" if lang == "ru" else "Login name").locator(
            "visible=true"
        ).first.fill("boris")
        page.get_by_role("button", name="Отключить" if lang == "ru" else "Disable").locator(
            "visible=true"
        ).first.click()
        page.locator(".admin-result:visible:has-text('boris')").first.wait_for()
        assert not served.queue.is_active("boris")
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / f"admin_{lang}.png"), full_page=True)
        page.get_by_role("button", name="Включить" if lang == "ru" else "Enable").locator(
            "visible=true"
        ).first.click()
        page.wait_for_timeout(1000)
        assert served.queue.is_active("boris")
    finally:
        context.close()


def test_a_specialist_sees_no_administration_tab(browser: object, served: Served) -> None:  # noqa: F811
    context, page = login_as(browser, served, "anna", USERS["anna"][0], "en")
    try:
        page.locator(".queue-table:visible [data-testid='cell-0-0']").wait_for()
        assert page.locator(f"button[role='tab']:visible:has-text('{TAB['en']}')").count() == 0
    finally:
        context.close()
