"""In a real browser, through the app served by two processes: each person's page works whole.

Two people log in from two browsers (Russian and English); each is kept with one process,
opens a card, records a decision and sees it saved, and the other's process shows the result.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from review_app import serve
from review_app._proxy import COOKIE, StickyProxy
from review_app._workers import Workers, free_port
from tests.review_app.review_app_fakes import USERS, Served, make_queue
from tests.review_app.test_browser import TEXT, browser, login_as  # noqa: F401 (a fixture)
from tests.review_app.test_proxy import Running

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory: pytest.TempPathFactory, screening: object) -> Iterator[Served]:
    queue = make_queue(tmp_path_factory.mktemp("workers") / "review.db", screening)  # type: ignore[arg-type]
    served, url = serve(queue, port=0, lang="ru", block=False, quiet=True, workers=2)
    assert isinstance(served, Workers)
    try:
        yield Served(queue=queue, url=url)
    finally:
        served.close()
        queue.close()


def test_two_people_on_two_processes_decide_in_their_own_pages(
    browser: object,  # noqa: F811
    two_processes: Served,
) -> None:
    served = two_processes
    pages = {}
    try:
        for user, lang in (("anna", "ru"), ("boris", "en")):  # districts apart
            context, page = login_as(browser, served, user, USERS[user][0], lang)
            page.locator(".queue-table:visible [data-testid='cell-0-0']").wait_for()
            worker = {c["name"]: c["value"] for c in context.cookies()}[COOKIE]
            pages[user] = (context, page, lang, worker)
        # New browsers are given the processes in turn.
        assert {w for *_, w in pages.values()} == {"0", "1"}
        for user, (_context, page, lang, _worker) in pages.items():
            t = TEXT[lang]
            cell = page.locator(".queue-table:visible [data-testid='cell-0-1']")
            family = cell.inner_text().strip()
            cell.click()
            page.locator(f".card-head:visible:has-text('{family}')").first.wait_for()
            page.get_by_label(t["decision"]).check()
            page.locator("textarea:visible").first.fill(t["rationale"])
            page.get_by_label(t["agree"]).check()
            save = "Сохранить решение" if lang == "ru" else "Save decision"
            page.get_by_role("button", name=save).click()
            page.locator(f".decision-result:visible:has-text('{t['saved']}')").first.wait_for()
            decided = served.queue.audit_log().query(f"actor == '{user}' and action == 'decision'")
            assert family in {d["family_id"] for d in decided["details"]}
    finally:
        for context, *_ in pages.values():
            context.close()  # type: ignore[attr-defined]
    assert served.queue.verify_audit_log().ok


def test_the_page_of_a_process_that_is_down_asks_to_reload_in_both_languages(
    browser: object,  # noqa: F811
    tmp_path: Path,
) -> None:
    closed = free_port("127.0.0.1")  # nothing listens there
    running = Running(StickyProxy([("127.0.0.1", closed)]))
    context = browser.new_context()  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto(running.url)
        page.get_by_text("Обновите страницу через несколько секунд", exact=False).wait_for()
        page.get_by_text("Reload the page in a few seconds", exact=False).wait_for()
        page.screenshot(path=str(tmp_path / "down.png"))
    finally:
        context.close()
        running.stop()
