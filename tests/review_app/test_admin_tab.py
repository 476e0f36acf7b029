"""The administration tab: admins only (checked on the server), every change audited and shown."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest

from review_app._admin import Administration, AdminPanel, NotAdmin
from review_app._i18n import Lang
from review_app._login import AccountDisabled, AgedLoginService, LoginAges
from review_app._service import ReviewService
from risk.review import AuthenticationFailed, ReviewQueue

PASSWORD = "correct horse battery"
DISTRICTS = ["shimsky", "valdaysky", "velikiy_novgorod"]


@pytest.fixture
def queue(tmp_path: Any) -> Iterator[ReviewQueue]:
    q = ReviewQueue(f"sqlite:///{tmp_path / 'admin.db'}")
    q.add_user("root", PASSWORD, "admin", [])
    q.add_user("anna", PASSWORD, "specialist", ["shimsky"])
    q.add_user("sveta", PASSWORD, "supervisor", DISTRICTS)
    yield q
    q.close()


def _panel(queue: ReviewQueue, lang: Lang) -> AdminPanel:
    with gr.Blocks():
        return AdminPanel(lang, Administration(ReviewService(queue), DISTRICTS))


def _request(user: str) -> Any:
    return SimpleNamespace(username=user, session_hash=f"{user}-session")


@pytest.mark.parametrize("who", ["anna", "sveta"])
def test_only_admins_may_administer_and_refusals_are_audited(queue: ReviewQueue, who: str) -> None:
    admin = Administration(ReviewService(queue), DISTRICTS)
    before = len(queue.audit_log())
    for call in (
        lambda: admin.users(who),
        lambda: admin.disable(who, "root"),
        lambda: admin.reset_password(who, "root", "mine now, all of it"),
        lambda: admin.set_role(who, who, "admin"),
        lambda: admin.history(who, "root"),
    ):
        with pytest.raises(NotAdmin, match="is not an admin"):
            call()
    log = queue.audit_log().iloc[before:]
    assert log["action"].tolist() == ["access_denied"] * 5
    assert queue.get_user(who).role != "admin" and queue.is_active("root")
    assert queue.authenticate("root", PASSWORD).name == "root"


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_panel_changes_users_and_shows_the_stored_state(queue: ReviewQueue, lang: Lang) -> None:
    panel = _panel(queue, lang)
    root = _request("root")
    table = panel.load(root)
    assert table.iloc[:, 0].tolist() == ["anna", "root", "sveta"]
    assert panel.load(_request("anna")) is None
    result, table, password = panel.do_add(
        "boris", "specialist", ["valdaysky"], "boris horse", root
    )
    assert "boris" in result and password == ""
    assert "boris" in table.iloc[:, 0].tolist()
    result, table, _ = panel.do_disable("anna", None, None, None, root)
    active = dict(zip(table.iloc[:, 0], table.iloc[:, 3], strict=True))
    assert active["anna"] == ("нет" if lang == "ru" else "no")
    panel.do_enable("anna", None, None, None, root)
    panel.do_set_role("anna", "supervisor", None, None, root)
    panel.do_set_districts("anna", None, ["shimsky", "valdaysky"], None, root)
    panel.do_reset("anna", None, None, "a fresh password", root)
    user = queue.authenticate("anna", "a fresh password")
    assert (user.role, user.districts) == ("supervisor", {"shimsky", "valdaysky"})
    text, history = panel.do_history("anna", root)
    actions = history["value"].iloc[:, 2].tolist()
    assert len(actions) == 7  # added, disabled, enabled, role, districts, password, login
    log = queue.audit_log()
    changes = log[log["action"].str.startswith(("user_", "password"))]
    assert set(changes[changes["subject"] == "user anna"]["actor"]) == {"root", "admin"}


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_refusals_are_in_the_interface_language(queue: ReviewQueue, lang: Lang) -> None:
    panel = _panel(queue, lang)
    root = _request("root")
    result, table, _ = panel.do_set_districts("anna", None, ["atlantis"], None, root)
    assert "atlantis" in result and table == gr.update()
    assert ("нет в регионе" if lang == "ru" else "not in the region") in result
    assert queue.get_user("anna").districts == {"shimsky"}
    result, _, _ = panel.do_disable("root", None, None, None, root)
    last = "последнего действующего администратора" if lang == "ru" else "last active admin"
    assert last in result and queue.is_active("root")
    result, _, _ = panel.do_disable("anna", None, None, None, _request("anna"))
    assert result.endswith(
        "Это могут только администраторы." if lang == "ru" else "Only administrators can do this."
    )
    assert queue.is_active("anna")


def test_a_disabled_users_open_session_is_refused_on_the_next_request(
    queue: ReviewQueue,
) -> None:
    ages = LoginAges(queue)
    service = AgedLoginService(queue, ages)
    ages.record("anna")
    assert service.user("anna").name == "anna"
    queue.disable_user("anna", actor="root")
    with pytest.raises(AccountDisabled, match="disabled"):
        service.queue_page("anna")
    assert isinstance(AccountDisabled("x"), AuthenticationFailed)
    last = queue.audit_log().iloc[-1]
    assert (last["actor"], last["action"], last["details"]["reason"]) == (
        "anna",
        "access_denied",
        "disabled",
    )
