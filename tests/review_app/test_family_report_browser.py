"""In the browser: the card's "Report for the family" button gives the family's PDF."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.review_app.review_app_fakes import Served
from tests.review_app.test_browser import _login, browser, shots  # noqa: F401 - fixtures

BUTTON = {"ru": "Отчёт для семьи", "en": "Report for the family"}


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_report_button_downloads_the_familys_pdf(
    browser: object,  # noqa: F811
    served: Served,
    shots: Path,  # noqa: F811
    tmp_path: Path,
    lang: str,
) -> None:
    context, page = _login(browser, served, "anna", lang, None)
    try:
        cell = page.locator(".queue-table:visible [data-testid='cell-0-1']")
        family = cell.inner_text().strip()
        cell.click()
        page.locator(f".card-head:visible:has-text('{family}')").first.wait_for()
        page.get_by_role("button", name=BUTTON[lang], exact=True).locator("visible=true").click()
        link = page.locator(f"a:visible[download*='family-report-{family}-{lang}']").first
        link.wait_for()
        link.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"family_report_button_{lang}.png"))
        with page.expect_download() as download:
            link.click()
        saved = tmp_path / f"{lang}.pdf"
        download.value.save_as(saved)
        assert saved.read_bytes().startswith(b"%PDF")
        log = served.queue.audit_log()
        mine = log.loc[(log["action"] == "family_report") & (log["actor"] == "anna")]
        assert f"family {family}" in set(mine["subject"])
    finally:
        context.close()
