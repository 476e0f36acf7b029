"""The card's "Report for the family" button: a file for the open family, within the district."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import pytest

from review_app._family_report import FamilyReportUI, report_file
from review_app._service import ReviewService
from tests.review_app.review_app_fakes import make_queue


@pytest.fixture
def service(tmp_path, fake_screening):  # type: ignore[no-untyped-def]
    queue = make_queue(tmp_path / "review.db", fake_screening)
    yield ReviewService(queue)
    queue.close()


def _card_state(service: ReviewService, user: str) -> tuple[int, str, str]:
    row = service.queue.items(user=user).iloc[0]
    return int(row["flag_id"]), str(row["family_id"]), str(row["district"])


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_button_gives_the_open_familys_report(service: ReviewService, lang: str) -> None:
    with gr.Blocks():
        ui = FamilyReportUI(lang, service)  # type: ignore[arg-type]
    assert ui.button.value == ("Отчёт для семьи" if lang == "ru" else "Report for the family")
    state = _card_state(service, "anna")
    file, note = ui.produce(state, SimpleNamespace(username="anna"))  # type: ignore[arg-type]
    assert file["visible"] is True
    with open(file["value"], "rb") as fh:
        data = fh.read()
    assert data.startswith(b"%PDF")
    assert state[1] in file["value"] and "❌" not in note
    last = service.queue.audit_log().iloc[-1]
    assert (last["action"], last["actor"]) == ("family_report", "anna")


def test_button_refuses_another_district_and_no_card(service: ReviewService) -> None:
    with gr.Blocks():
        ui = FamilyReportUI("en", service)  # type: ignore[arg-type]
    state = _card_state(service, "anna")
    file, note = ui.produce(state, SimpleNamespace(username="boris"))  # type: ignore[arg-type]
    assert file["visible"] is False and "❌" in note and "no access" in note
    assert service.queue.audit_log()["action"].iloc[-1] == "access_denied"
    file, note = ui.produce(None, SimpleNamespace(username="anna"))  # type: ignore[arg-type]
    assert file["visible"] is False and note


def test_report_file_shows_no_score(service: ReviewService, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from risk.family_report import produce_family_report, render_html

    state = _card_state(service, "anna")
    item = service.queue.item(state[0], "anna")
    report = produce_family_report(service.queue, state[1], "anna", lang="en")
    html = render_html(report)
    for number in (item.score, item.log_odds):
        assert f"{number}" not in html and f"{number:.2f}" not in html
    path = report_file(service, "anna", state[1], "en", directory=tmp_path)
    assert path.parent == tmp_path and path.read_bytes().startswith(b"%PDF")
