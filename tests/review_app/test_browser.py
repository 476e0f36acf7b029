"""In a real browser: Debian's headless Chromium driven by Playwright, in Russian and English.

Logs in, opens a family card from the queue, records a decision and sees it saved; a supervisor
opens the supervisor view. Screenshots go to ``$RISK_SCREENSHOTS`` (``docs/screenshots`` to
refresh the committed ones), else to a temporary directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.review_app.review_app_fakes import USERS, Served

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MY_QUEUE = {"ru": "Моя очередь", "en": "My queue"}
TEXT = {
    "ru": {
        "decision": "Направлено в другое ведомство",
        "agree": "Согласен: семье нужно внимание",
        "saved": "сохранено",
        "supervisor": "Руководитель",
        "sup_head": "Обзор для руководителя",
        "counts": "Ждут решения",
        "rationale": "Семья согласилась на встречу; направили к психологу школы.",
    },
    "en": {
        "decision": "Referred to another agency",
        "agree": "Agree: the family needs attention",
        "saved": "saved",
        "supervisor": "Supervisor",
        "sup_head": "Supervisor overview",
        "counts": "Awaiting decision",
        "rationale": "The family agreed to meet; referred to the school psychologist.",
    },
}


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("RISK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"RISK_REQUIRE_BROWSER=1 but no Chromium at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("RISK_SCREENSHOTS")
    path = Path(target) if target else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def login_as(  # type: ignore[no-untyped-def]
    chromium: object,
    served: Served,
    user: str,
    password: str,
    lang: str,
    shots: Path | None = None,
):
    """Log ``user`` in from a browser set to ``lang``; the app opens in it by itself."""
    context = chromium.new_context(  # type: ignore[attr-defined]
        viewport={"width": 1440, "height": 1000}, locale="ru-RU" if lang == "ru" else "en-US"
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(served.url)
    inputs = page.locator("input")
    inputs.nth(1).wait_for()
    if shots is not None:
        page.screenshot(path=str(shots / f"login_{lang}.png"))
    inputs.nth(0).fill(user)
    inputs.nth(1).fill(password)
    page.keyboard.press("Enter")
    page.locator("#language").wait_for()
    # No click on the switch: the page must open in the browser's language.
    page.get_by_role("tab", name=MY_QUEUE[lang]).first.wait_for()
    page.get_by_role("tab", name=MY_QUEUE["en" if lang == "ru" else "ru"]).first.wait_for(
        state="hidden"
    )
    return context, page


def _login(browser: object, served: Served, user: str, lang: str, shots: Path | None):  # type: ignore[no-untyped-def]
    context, page = login_as(browser, served, user, USERS[user][0], lang, shots)
    page.locator(".queue-table:visible [data-testid='cell-0-0']").wait_for()
    return context, page


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_specialist_reviews_and_decides(
    browser: object, served: Served, shots: Path, lang: str
) -> None:
    t = TEXT[lang]
    context, page = _login(browser, served, "anna", lang, shots)
    try:
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / f"queue_{lang}.png"), full_page=True)
        family = page.locator(".queue-table:visible [data-testid='cell-0-1']").inner_text().strip()
        page.locator(".queue-table:visible [data-testid='cell-0-1']").click()
        page.locator(f".card-head:visible:has-text('{family}')").first.wait_for()
        page.wait_for_timeout(1000)
        page.screenshot(path=str(shots / f"card_{lang}.png"), full_page=True)

        page.get_by_label(t["decision"]).check()
        page.locator("textarea:visible").first.fill(t["rationale"])
        page.get_by_label(t["agree"]).check()
        page.get_by_role(
            "button", name="Сохранить решение" if lang == "ru" else "Save decision"
        ).click()
        page.locator(f".decision-result:visible:has-text('{t['saved']}')").first.wait_for()
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / f"decision_saved_{lang}.png"), full_page=True)
        decided = served.queue.audit_log().query("actor == 'anna' and action == 'decision'")
        families = {d["family_id"] for d in decided["details"]}
        assert family in families
        assert page.get_by_text(t["supervisor"], exact=True).count() == 0
    finally:
        context.close()


# Stored HTML (issue 17, 1): a rationale and a service that would render a form with a
# password field and fetch remote images, were they put into the card as markup.
ATTACK = (
    '<form action="http://127.0.0.1:9/x"><input type="password" name="p">'
    "<button>Войти</button></form> ![x](http://127.0.0.1:9/img.png) "
    "<img src=http://127.0.0.1:9/i.png> Session expired, enter your password again."
)
ATTACK_SERVICE = "<img src=http://127.0.0.1:9/s.png>"


def test_what_a_person_wrote_is_shown_as_text_on_the_card(browser: object, served: Served) -> None:
    items = served.queue.items(status="open", districts=("valdaysky",))
    flag, family = int(items["flag_id"].iloc[-1]), str(items["family_id"].iloc[-1])
    served.queue.record_decision(
        flag,
        "anna",
        "support_offered",
        ATTACK,
        ["nvg-dif-004", ATTACK_SERVICE],
        agrees_with_model=True,
    )
    context, page = _login(browser, served, "anna", "en", None)
    requested: list[str] = []
    context.on("request", lambda r: requested.append(r.url))
    try:
        page.get_by_label("Open flag no.").last.fill(str(flag))
        page.get_by_role("button", name="Open", exact=True).last.click()
        page.locator(f".card-head:visible:has-text('{family}')").first.wait_for()
        page.get_by_text("Session expired, enter your password again.").first.wait_for()
        page.wait_for_timeout(1500)  # time for any image to be asked for
        assert page.locator("form").count() == 0
        assert page.locator("input[type=password]").count() == 0
        assert page.locator("img[src*='127.0.0.1:9']").count() == 0
        assert page.locator("a[href*='127.0.0.1:9']").count() == 0
        assert not [u for u in requested if "127.0.0.1:9/" in u], requested
        for shown in (
            '<input type="password" name="p"><button>Войти</button></form>',
            "![x](http://127.0.0.1:9/img.png)",
            "<img src=http://127.0.0.1:9/i.png>",
            ATTACK_SERVICE,
        ):
            assert page.get_by_text(shown).count() >= 1, shown
    finally:
        context.close()


@pytest.fixture(scope="module")
def decided(served: Served) -> int:
    """Decisions by several specialists, so that the supervisor view has something to show."""
    import numpy as np

    from risk.review import DECISIONS

    rng = np.random.default_rng(1)
    items = served.queue.items(status="open")
    deciders = {"velikiy_novgorod": "alla", "valdaysky": "anna", "borovichsky": "boris"}
    n = 0
    for flag_id, district in zip(items["flag_id"], items["district"], strict=True):
        if district not in deciders or rng.uniform() < 0.35:
            continue
        decision = str(rng.choice(DECISIONS))
        services = ["nvg-dif-004"] if decision == "support_offered" else []
        served.queue.record_decision(
            int(flag_id),
            deciders[district],
            decision,
            "Talked to the family at the centre.",
            services,
            agrees_with_model=bool(rng.uniform() < 0.7),
        )
        n += 1
    return n


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_supervisor_view(
    browser: object, served: Served, shots: Path, lang: str, decided: int
) -> None:
    t = TEXT[lang]
    context, page = _login(browser, served, "sveta", lang, None)
    try:
        page.locator(f"button[role='tab']:visible:has-text('{t['supervisor']}')").click()
        page.get_by_text(t["sup_head"]).first.wait_for()
        page.locator(f".sup-counts:visible:has-text('{t['counts']}')").first.wait_for()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(shots / f"supervisor_{lang}.png"), full_page=True)
    finally:
        context.close()
