"""A state that stays true: after a decision the card's header shows the item as stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pandas as pd
import pytest

from review_app import _queue_view as qv
from review_app._app import _LanguageUI
from review_app._catalog import DistrictServices
from review_app._i18n import STATUS_NAMES, TIER_NAMES, Lang, district_name, name, percent, t
from review_app._service import ReviewService
from risk import load_catalog
from risk.review import AWAITING, ReviewQueue, ScreeningLike
from tests.review_app.review_app_fakes import make_queue

RATIONALE = "The family agreed to meet; referred to the school psychologist."


@pytest.fixture(scope="module")
def queue(
    tmp_path_factory: pytest.TempPathFactory, screening: ScreeningLike
) -> Iterator[ReviewQueue]:
    q = make_queue(tmp_path_factory.mktemp("state") / "s.db", screening)
    yield q
    q.close()


def _ui(queue: ReviewQueue, lang: Lang) -> _LanguageUI:
    with gr.Blocks():
        return _LanguageUI(lang, ReviewService(queue), DistrictServices(load_catalog()), None)


def _request(user: str) -> Any:
    return SimpleNamespace(username=user, session_hash=f"{user}-session")


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_after_a_decision_the_header_and_queue_show_the_stored_status(
    queue: ReviewQueue, lang: Lang
) -> None:
    ui = _ui(queue, lang)
    request = _request("anna")
    flag = int(queue.items(status="open", districts=["valdaysky"])["flag_id"].iloc[0])
    opened = ui.open_card(flag, request)
    state, head = opened[0], opened[1]
    status = "status: " if lang == "en" else "статус: "
    assert f"{status}{name(STATUS_NAMES, 'open', lang)}" in head
    result, _, after = ui.save_decision(state, "referred", [], {}, [], RATIONALE, "agree", request)
    assert queue.item(flag, "anna").status == "decided"
    assert f"{status}{name(STATUS_NAMES, 'decided', lang)}" in after
    assert f"{status}{name(STATUS_NAMES, 'open', lang)}" not in after
    awaiting = ui.show_queue("valdaysky", "", "awaiting", 1, request)[1]
    assert flag not in [row[0] for row in awaiting["data"]]
    decided = ui.show_queue("valdaysky", "", "decided", 1, request)[1]
    assert flag in [row[0] for row in decided["data"]]


def _table_as_a_dataframe(rows: pd.DataFrame, L: Lang) -> pd.DataFrame:
    """The queue table as it was built before it became lists (what the page showed)."""
    return pd.DataFrame(
        {
            t(L, "col_flag"): rows["flag_id"].astype("int64").to_numpy(),
            t(L, "col_family"): rows["family_id"].astype(str).to_numpy(),
            t(L, "col_district"): [district_name(d, L) for d in rows["district"].astype(str)],
            t(L, "col_tier"): [name(TIER_NAMES, x, L) for x in rows["tier"]],
            t(L, "col_score"): [percent(float(x), L) for x in rows["score"]],
            t(L, "col_age"): rows["age_days"].astype("int64").to_numpy(),
            t(L, "col_sla"): [
                t(L, "overdue") if o else (t(L, "in_time") if s in AWAITING else "")
                for o, s in zip(rows["overdue"], rows["status"], strict=True)
            ],
            t(L, "col_status"): [name(STATUS_NAMES, x, L) for x in rows["status"]],
        }
    )


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("status", ["awaiting", "decided", "open"])
def test_the_queue_table_sends_the_page_what_the_dataframe_sent(
    queue: ReviewQueue, lang: Lang, status: str
) -> None:
    service = ReviewService(queue)
    # Thirty days on, some items are overdue: every SLA mark is on the page.
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=30)
    rows = service.queue_page("anna", status=qv.statuses(status), page_size=40, now=later).rows
    shown = gr.Dataframe(interactive=False)
    sent = shown.postprocess(qv.queue_table(rows, lang))
    assert sent == shown.postprocess(_table_as_a_dataframe(rows, lang))
    assert len(sent.data) == len(rows) > 0


def test_a_refused_decision_leaves_the_header_as_it_was(queue: ReviewQueue) -> None:
    ui = _ui(queue, "en")
    request = _request("anna")
    flag = int(queue.items(status="open", districts=["valdaysky"])["flag_id"].iloc[0])
    state = ui.open_card(flag, request)[0]
    result, _, head = ui.save_decision(state, "referred", [], {}, [], "too short", "agree", request)
    assert "Not saved" in result
    assert head == gr.update()
    assert queue.item(flag, "anna").status == "open"


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_after_a_dispute_the_record_is_marked_as_stored(queue: ReviewQueue, lang: Lang) -> None:
    ui = _ui(queue, lang)
    request = _request("alla")
    nth = -1 if lang == "ru" else -2  # one family per language: the store is shared
    flag = int(queue.items(status="open", districts=["velikiy_novgorod"])["flag_id"].iloc[nth])
    opened = ui.open_card(flag, request)
    state, choices = opened[0], opened[16]["choices"]
    label, event = choices[0]
    mark = "оспорена" if lang == "ru" else "disputed"
    assert not label.endswith(mark)
    result, listed, reason = ui.dispute(
        state, event, "This record is about another family.", request
    )
    assert event in queue.disputed_event_ids(state[1])
    assert dict((e, lbl) for lbl, e in listed["choices"])[event].endswith(f" · {mark}")
    assert reason["value"] == ""
    # Opened again, the card shows the same.
    again = ui.open_card(flag, request)[16]["choices"]
    assert dict((e, lbl) for lbl, e in again)[event].endswith(f" · {mark}")
