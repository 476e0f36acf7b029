"""The Gradio app: my queue, the family card with the decision form, the supervisor view.

Every handler takes ``gr.Request``, reads the user the server authenticated
(``request.username``; never a name the client sends) and goes through
:class:`review_app._service.ReviewService`, i.e. through ``risk.review``'s access, rationale and
versioning checks and its audit log. Handlers wired to the page are ``api_visibility="private"``
(hidden from the API docs and from ``gradio_client``), but the page itself calls them over HTTP,
so they check exactly as much as the four named API endpoints (``_api``). No handler decides,
closes or changes more than one item.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

import gradio as gr
import pandas as pd

from review_app import _card as card
from review_app import _followup_view as fv
from review_app import _queue_view as qv
from review_app import _supervisor as sup
from review_app._admin import Administration, AdminPanel
from review_app._api import define_api
from review_app._catalog import DistrictServices
from review_app._family_report import FamilyReportUI
from review_app._i18n import (
    DECISION_NAMES,
    LANG_NAMES,
    LANGS,
    ROLE_NAMES,
    Lang,
    check_lang,
    district_name,
    model_label,
    name,
    t,
    use_region,
    when,
)
from review_app._language import preferred_language
from review_app._refusals import error, refusal, refused, session_of
from review_app._service import Card, ReviewService
from review_app._text import escape_text
from risk.review import (
    AWAITING,
    DECISIONS,
    MIN_DISPUTE_REASON_LENGTH,
    MIN_RATIONALE_LENGTH,
    SUPERVISOR_ROLES,
    AccessDenied,
    ReviewError,
    ReviewQueue,
    StoreUnavailable,
)

PAGE_SIZE = 25

CSS = """
#banner, #banner-en {background: #fff7e0; border-left: 4px solid #d08c2c; padding: 6px 12px;}
#banner p, #banner-en p {margin: 0;}
#notice {background: #fde8e8; border-left: 4px solid #c0392b; padding: 6px 12px;
  white-space: pre-line;}
.refused p {color: #a61b1b; font-weight: 600;}
"""


class _LanguageUI:
    """The whole page in one language (the app holds one per language and shows one)."""

    def __init__(
        self, lang: Lang, service: ReviewService, catalog: DistrictServices, model_uri: str | None
    ) -> None:
        self.lang = lang
        self.service = service
        self.catalog = catalog
        self.model_uri = model_uri
        self._build()

    # -- layout ---------------------------------------------------------------------------

    def _build(self) -> None:
        L = self.lang
        with gr.Row(equal_height=True):
            self.who = gr.Markdown("", elem_classes="who")
            self.logout = gr.Button(t(L, "logout"), link="/logout", size="sm", scale=0)
        gr.Markdown(t(L, "banner"), elem_id="banner" if LANGS[0] == L else "banner-en")
        with gr.Tabs(selected="queue") as self.tabs:
            with gr.Tab(t(L, "tab_queue"), id="queue"):
                self._build_queue()
            with gr.Tab(t(L, "tab_card"), id="card"):
                self._build_card()
            with gr.Tab(t(L, "tab_supervisor"), id="supervisor", visible=False) as self.sup_tab:
                self._build_supervisor()
            with gr.Tab(t(L, "tab_admin"), id="admin", visible=False) as self.admin_tab:
                self.admin = AdminPanel(L, Administration(self.service))

    def _build_queue(self) -> None:
        L = self.lang
        with gr.Row():
            self.f_district = gr.Dropdown(
                [(t(L, "all"), "")], value="", label=t(L, "f_district"), scale=2
            )
            self.f_tier = gr.Dropdown(
                qv.tier_choices(L),
                value="",
                label=t(L, "f_tier"),
                scale=1,
            )
            self.f_status = gr.Dropdown(
                qv.status_choices(L),
                value=qv.AWAITING_CHOICE,
                label=t(L, "f_status"),
                scale=1,
            )
            self.refresh = gr.Button(t(L, "refresh"), scale=0)
        self.summary = gr.Markdown("")
        self.table = gr.Dataframe(
            interactive=False, wrap=False, max_height=760, elem_classes="queue-table"
        )
        with gr.Row():
            self.prev = gr.Button(t(L, "prev"), size="sm", scale=0)
            self.page = gr.Number(value=1, precision=0, label=t(L, "page"), minimum=1, scale=0)
            self.next = gr.Button(t(L, "next"), size="sm", scale=0)
            gr.Markdown("")
            self.open_id = gr.Number(label=t(L, "open_flag"), precision=0, scale=0)
            self.open_btn = gr.Button(t(L, "open"), size="sm", scale=0)

    def _build_card(self) -> None:
        L = self.lang
        self.card_state = gr.State(None)  # (flag_id, family_id, district) of the open card
        self.card_head = gr.Markdown(t(L, "card_none"), elem_classes="card-head")
        self.waterfall = gr.Plot(show_label=False, visible=False)
        with gr.Row():
            with gr.Column(scale=3):
                self.explain = gr.Markdown("", elem_classes="card-explain")
            with gr.Column(scale=2):
                self.blind = gr.Markdown("")
                self.services = gr.Markdown("")
        self.timeline = gr.Plot(show_label=False, visible=False)
        # Decisions hold text people wrote: no "$$" in a rationale may turn into a formula.
        self.history = gr.Markdown("", latex_delimiters=[])
        self.family_report = FamilyReportUI(L, self.service, self.catalog.catalog)
        with gr.Group(visible=False) as self.form:
            gr.Markdown("### " + t(L, "decide_head"))
            self.decision = gr.Radio(
                [(name(DECISION_NAMES, d, L), d) for d in DECISIONS], label=t(L, "decision")
            )
            with gr.Row():
                # Gradio shows a checkbox's value as its tooltip: the values are the services'
                # names, never their ids; ``suggested_ids`` maps them back for the open card.
                self.suggested = gr.CheckboxGroup([], label=t(L, "suggested"))
                self.suggested_ids = gr.State({})
                self.extra = gr.Dropdown([], multiselect=True, label=t(L, "catalog"))
            self.rationale = gr.Textbox(
                label=t(L, "rationale", n=MIN_RATIONALE_LENGTH),
                placeholder=t(L, "rationale_ph"),
                lines=3,
            )
            self.agreement = gr.Radio(
                [(t(L, "agree"), "agree"), (t(L, "disagree"), "disagree")],
                label=t(L, "agreement"),
            )
            self.save = gr.Button(t(L, "save"), variant="primary")
            self.result = gr.Markdown("", elem_classes="decision-result")
        with gr.Accordion(t(L, "dispute_head"), open=False, visible=False) as self.dispute_box:
            self.dispute_event = gr.Dropdown([], label=t(L, "dispute_record"))
            self.dispute_reason = gr.Textbox(
                label=t(L, "dispute_reason", n=MIN_DISPUTE_REASON_LENGTH)
            )
            self.dispute_btn = gr.Button(t(L, "dispute_btn"))
            self.dispute_result = gr.Markdown("")
        self.follow_up = fv.FollowUpPanel(L, self.service, self.catalog)

    def _build_supervisor(self) -> None:
        L = self.lang
        gr.Markdown("## " + t(L, "sup_head"))
        self.sup_refresh = gr.Button(t(L, "refresh"), size="sm")
        self.sup_counts = gr.Markdown("", elem_classes="sup-counts")
        gr.Markdown("### " + t(L, "sup_overdue"))
        self.sup_overdue = gr.Dataframe(interactive=False, max_height=320)
        gr.Markdown("### " + t(L, "sup_late_follow_ups"))
        self.sup_follow_ups = gr.Dataframe(interactive=False, max_height=240)
        self.sup_actions = fv.SupervisorActions(L, self.service)
        with gr.Row():
            with gr.Column():
                self.sup_outcomes = gr.Plot(show_label=False)
            with gr.Column():
                gr.Markdown("### " + t(L, "sup_agreement"))
                self.sup_agreement = gr.Dataframe(interactive=False)
        gr.Markdown("### " + t(L, "sup_fairness"))
        self.sup_note = gr.Markdown("")
        self.sup_fair_table = gr.Dataframe(interactive=False)
        self.sup_fair_plot = gr.Plot(show_label=False)

    # -- wiring ---------------------------------------------------------------------------

    def queue_outputs(self) -> list[Any]:
        return [self.summary, self.table, self.page]

    def wire(self) -> None:
        """Connect the events (all private: the page calls them, API clients cannot)."""
        private: dict[str, Any] = {"api_visibility": "private"}
        filters = [self.f_district, self.f_tier, self.f_status]
        for comp in filters:
            comp.change(self.first_page, None, self.page, **private).then(
                self.show_queue, [*filters, self.page], self.queue_outputs(), **private
            )
        self.refresh.click(self.show_queue, [*filters, self.page], self.queue_outputs(), **private)
        self.page.submit(self.show_queue, [*filters, self.page], self.queue_outputs(), **private)
        self.prev.click(
            self.show_queue_step(-1), [*filters, self.page], self.queue_outputs(), **private
        )
        self.next.click(
            self.show_queue_step(+1), [*filters, self.page], self.queue_outputs(), **private
        )
        card_outputs = self.card_outputs()
        show_follow_up = self._then_follow_up
        show_follow_up(self.table.select(self.open_selected, None, card_outputs, **private))
        show_follow_up(self.open_btn.click(self.open_card, self.open_id, card_outputs, **private))
        self.follow_up.wire(self.card_state)
        self.sup_actions.wire(
            self.sup_overdue,
            self.open_card,
            card_outputs,
            show_follow_up,
            self.supervisor_view,
            self.supervisor_outputs(),
        )
        self.save.click(
            self.save_decision,
            [
                self.card_state,
                self.decision,
                self.suggested,
                self.suggested_ids,
                self.extra,
                self.rationale,
                self.agreement,
            ],
            [self.result, self.history, self.card_head],
            **private,
        ).then(self.show_queue, [*filters, self.page], self.queue_outputs(), **private).then(
            self.follow_up.show, self.card_state, self.follow_up.outputs(), **private
        )
        self.dispute_btn.click(
            self.dispute,
            [self.card_state, self.dispute_event, self.dispute_reason],
            [self.dispute_result, self.dispute_event, self.dispute_reason],
            **private,
        )
        self.sup_refresh.click(self.supervisor_view, None, self.supervisor_outputs(), **private)
        self.family_report.wire(self.card_state)
        self.admin.wire()

    def carry_over(self, chosen: Any, language: gr.Radio, other: _LanguageUI) -> Any:
        """After a switch to this language, open the card and the page ``other`` had open."""
        outputs = [*self.card_outputs(), self.page]

        def carry(
            choice: str,
            state: tuple[int, str, str] | None,
            page: float | None,
            request: gr.Request,
        ) -> list[Any]:
            if choice != self.lang:
                return [gr.update() for _ in outputs]
            page_update = gr.update(value=int(page or 1))
            if not state:
                return [*(gr.update() for _ in self.card_outputs()), page_update]
            return [*self.open_card(int(state[0]), request), page_update]

        carried = chosen.then(
            carry, [language, other.card_state, other.page], outputs, api_visibility="private"
        )
        self._then_follow_up(carried)
        return carried

    def _then_follow_up(self, event: Any) -> Any:
        # After a card opens, show its follow-up as stored.
        return event.then(
            self.follow_up.show,
            self.card_state,
            self.follow_up.outputs(),
            api_visibility="private",
        )

    def card_outputs(self) -> list[Any]:
        return [
            self.card_state,
            self.card_head,
            self.waterfall,
            self.explain,
            self.timeline,
            self.blind,
            self.services,
            self.history,
            self.form,
            self.decision,
            self.suggested,
            self.extra,
            self.rationale,
            self.agreement,
            self.result,
            self.dispute_box,
            self.dispute_event,
            self.dispute_reason,
            self.dispute_result,
            self.tabs,
            self.suggested_ids,
        ]

    def supervisor_outputs(self) -> list[Any]:
        return [
            self.sup_counts,
            self.sup_overdue,
            self.sup_outcomes,
            self.sup_agreement,
            self.sup_note,
            self.sup_fair_table,
            self.sup_fair_plot,
            self.sup_follow_ups,
        ]

    # -- handlers -------------------------------------------------------------------------

    def on_load(self, request: gr.Request) -> list[Any]:
        """Header, filters and the supervisor tab for the logged-in user."""
        L = self.lang
        try:
            user = self.service.user(request.username)
        except (ReviewError, StoreUnavailable) as exc:
            raise error(exc, L) from None
        who = t(
            L,
            "who",
            name=user.name,
            role=name(ROLE_NAMES, user.role, L),
            districts=", ".join(district_name(d, L) for d in sorted(user.districts)) or "—",
        )
        if self.model_uri:
            who += " · " + t(L, "model", model=model_label(self.model_uri, L))
        districts = [(t(L, "all"), "")] + [(district_name(d, L), d) for d in sorted(user.districts)]
        return [
            "### " + t(L, "title") + "\n" + who,
            gr.update(choices=districts, value=""),
            gr.update(visible=user.role in SUPERVISOR_ROLES),
            gr.update(visible=user.role == "admin"),
        ]

    def load_outputs(self) -> list[Any]:
        return [self.who, self.f_district, self.sup_tab, self.admin_tab]

    @staticmethod
    def first_page() -> int:
        return 1

    def show_queue_step(self, step: int) -> Callable[..., list[Any]]:
        def handler(
            district: str, tier: str, status: str, page: float | None, request: gr.Request
        ) -> list[Any]:
            return self.show_queue(district, tier, status, (page or 1) + step, request)

        return handler

    def show_queue(
        self, district: str, tier: str, status: str, page: float | None, request: gr.Request
    ) -> list[Any]:
        """One page of the user's queue, with ages against the SLA and overdue marks."""
        L = self.lang
        try:
            found = self.service.queue_page(
                request.username,
                district=district or None,
                tier=tier or None,
                status=qv.statuses(status),
                page=int(page or 1),
                page_size=PAGE_SIZE,
            )
        except (ReviewError, StoreUnavailable) as exc:
            raise error(exc, L) from None
        summary = qv.queue_summary(found, PAGE_SIZE, self.service.sla_working_days, L)
        return [
            summary,
            qv.queue_table(found.rows, L),
            gr.update(value=found.page, maximum=found.n_pages),
        ]

    def open_selected(self, evt: gr.SelectData, request: gr.Request) -> list[Any]:
        row = evt.row_value if evt.row_value is not None else []
        if not row:
            raise gr.Error(t(self.lang, "card_none"), print_exception=False)
        return self.open_card(row[0], request)

    def open_card(self, flag_id: float | None, request: gr.Request) -> list[Any]:
        """Open a family card: access checked and the view audited by ``risk.review``."""
        L = self.lang
        if flag_id is None:
            raise gr.Error(t(L, "card_none"), print_exception=False)
        try:
            c = self.service.open_family(request.username, session_of(request), int(flag_id))
        except (ReviewError, StoreUnavailable) as exc:
            raise error(exc, L) from None
        p = c.payload
        district = str(c.item.district)
        suggested_ids = _unique_labels(
            [(card.service_label(s, L), str(s["service_id"])) for s in p.get("services", [])]
        )
        suggested = [(label, label) for label in suggested_ids]
        extra = [
            (ru if L == "ru" else en, sid)
            for sid, ru, en in self.catalog.district(district)
            if sid not in suggested_ids.values()
        ]
        awaiting = c.item.status in AWAITING
        events = self._dispute_choices(p, str(c.item.family_id))
        return [
            (int(c.item.flag_id), str(c.item.family_id), district),
            _card_head(c, L),
            gr.update(value=card.waterfall_figure(p, L), visible=True),
            card.explanation(p, L),
            gr.update(value=card.timeline_figure(p, L), visible=True),
            card.blind_spots(p, L),
            card.services_block(p, L),
            card.decisions_block(c.decisions, L, self._service_names(p, district)),
            gr.update(visible=awaiting),
            gr.update(value=None),
            gr.update(choices=suggested, value=[]),
            gr.update(choices=extra, value=[]),
            gr.update(value=""),
            gr.update(value=None),
            "",
            gr.update(visible=True),
            gr.update(choices=events, value=None),
            gr.update(value=""),
            "",
            gr.Tabs(selected="card"),
            suggested_ids,
        ]

    def _service_names(self, payload: Mapping[str, Any], district: str) -> dict[str, str]:
        names = self.catalog.names(district, self.lang)
        for s in payload.get("services", []):
            names[str(s["service_id"])] = str(s[f"name_{self.lang}"])
        return names

    def save_decision(
        self,
        state: tuple[int, str, str] | None,
        decision: str | None,
        suggested: list[str] | None,
        suggested_ids: Mapping[str, str] | None,
        extra: list[str] | None,
        rationale: str | None,
        agreement: str | None,
        request: gr.Request,
    ) -> list[Any]:
        """Save one decision; show the result or the exact reason it was refused."""
        L = self.lang
        no_change = [gr.update(), gr.update()]
        if not state:
            return [refused(t(L, "err_no_card"), L), *no_change]
        if not decision:
            return [refused(t(L, "err_pick_decision"), L), *no_change]
        if agreement not in ("agree", "disagree"):
            return [refused(t(L, "err_pick_agreement"), L), *no_change]
        flag_id = int(state[0])
        ids = suggested_ids or {}
        picked = [ids.get(label, label) for label in suggested or []]
        services = list(dict.fromkeys([*picked, *(extra or [])]))
        try:
            session = session_of(request)
            d = self.service.record_decision(
                request.username,
                session,
                flag_id,
                decision,
                rationale or "",
                services,
                agreement == "agree",
            )
            decisions, decided = self.service.after_decision(
                request.username, session, d, str(state[1])
            )
            history = self._history(decisions, state)
        except (ReviewError, StoreUnavailable) as exc:
            return [refused(escape_text(refusal(exc, L)), L), *no_change]
        # The header shows the item as stored now (decided), not as it was opened.
        head: Any = gr.update() if decided is None else _card_head(decided, L)
        saved = t(
            L,
            "saved",
            id=d.decision_id,
            decision=name(DECISION_NAMES, d.decision, L),
            flag=d.flag_id,
            at=when(d.decided_at, L),
        )
        return [saved, history, head]

    def _history(self, decisions: pd.DataFrame, state: tuple[int, str, str]) -> str:
        district = state[2]
        return card.decisions_block(decisions, self.lang, self.catalog.names(district, self.lang))

    def dispute(
        self,
        state: tuple[int, str, str] | None,
        event_id: str | None,
        reason: str | None,
        request: gr.Request,
    ) -> list[Any]:
        """Mark a record of the open family as disputed; the records list shows it as stored."""
        L = self.lang
        if not state:
            return [refused(t(L, "err_no_card"), L), gr.update(), gr.update()]
        try:
            dispute_id = self.service.dispute_record(
                request.username, session_of(request), str(event_id or ""), reason or ""
            )
            c = self.service.open_family(request.username, session_of(request), int(state[0]))
        except (ReviewError, StoreUnavailable) as exc:
            return [refused(escape_text(refusal(exc, L)), L), gr.update(), gr.update()]
        choices = self._dispute_choices(c.payload, str(state[1]))
        return [
            t(L, "disputed", event=escape_text(event_id), id=dispute_id),
            gr.update(choices=choices, value=None),
            gr.update(value=""),
        ]

    def _dispute_choices(self, payload: Mapping[str, Any], family_id: str) -> list[Any]:
        # Records already disputed (as stored now) are marked in the list.
        disputed = self.service.queue.disputed_event_ids(family_id)
        mark = t(self.lang, "disputed_mark")
        return [
            (f"{label} · {mark}" if event in disputed else label, event)
            for label, event in card.timeline_rows(payload, self.lang)
        ]

    def supervisor_view(self, request: gr.Request) -> list[Any]:
        """Fill the supervisor view (empty for anyone who is not a supervisor)."""
        L = self.lang
        try:
            data = self.service.supervisor_data(request.username)
        except AccessDenied:
            return [""] + [None] * 7
        except (ReviewError, StoreUnavailable) as exc:
            raise error(exc, L) from None
        note, fair_table, fair_plot = sup.fairness(data.decisions, L)
        return [
            sup.counts(data, L),
            sup.overdue_table(data.late, L),
            sup.outcome_figure(data.decisions, L),
            sup.agreement_table(data.decisions, L),
            note,
            fair_table,
            gr.update(value=fair_plot, visible=fair_plot is not None),
            sup.follow_up_table(data.late_follow_ups, L),
        ]


def _unique_labels(choices: list[tuple[str, str]]) -> dict[str, str]:
    """Map each label to its id, numbering a label shown twice ("Name (2)").

    Examples
    --------
    >>> _unique_labels([("Psychologist", "a"), ("Lawyer", "b"), ("Psychologist", "c")])
    {'Psychologist': 'a', 'Lawyer': 'b', 'Psychologist (2)': 'c'}
    """
    out: dict[str, str] = {}
    for label, sid in choices:
        shown, n = label, 1
        while shown in out:
            n += 1
            shown = f"{label} ({n})"
        out[shown] = sid
    return out


def _card_head(c: Card, lang: Lang) -> str:
    item = _item_dict(c)
    return (
        card.family_header(item, c.payload, lang) + "\n\n" + card.score_block(item, c.payload, lang)
    )


def _item_dict(c: Card) -> dict[str, Any]:
    i = c.item
    return {
        "flag_id": i.flag_id,
        "family_id": i.family_id,
        "district": i.district,
        "status": i.status,
        "score": i.score,
        "tier": i.tier,
        "rank_in_district": i.rank_in_district,
        "model_version": i.model_version,
        "as_of": i.as_of,
    }


def build_app(
    queue: ReviewQueue,
    *,
    lang: str = "ru",
    catalog: Any = None,
    model_uri: str | None = None,
    service: ReviewService | None = None,
    notice: str | None = None,
    region: Any = None,
) -> gr.Blocks:
    """Build the review app over ``queue`` (pure construction: nothing is launched).

    Parameters
    ----------
    queue : ReviewQueue
        The review queue; its users log in, its rules decide what is allowed.
    lang : {"ru", "en"}
        Language of a page whose address (``?lang=``) and browser ask for neither Russian
        nor English (see :mod:`review_app._language`); each user can switch.
    catalog : risk services catalog, optional
        Services for the decision form's "whole district" list, and the services a decision
        may offer; default the region's.
    model_uri : str, optional
        Shown in the header.
    service : ReviewService, optional
        To set the SLA or holidays; default ``ReviewService(queue)``.
    notice : str, optional
        A note from whoever serves the app, shown as plain text at the top of every page
        (write it in Russian and English), e.g. that the model serving is an unpromoted one.
    region : risk.regions.RegionPack, optional
        The region served: its district names are shown; default the default pack.

    Returns
    -------
    gradio.Blocks
        Launch it with authentication, e.g. through :func:`review_app.serve`.
    """
    default = check_lang(lang)
    service = service or ReviewService(queue)
    if region is None:
        from risk.regions import load_region

        region = load_region()
    use_region(region)
    if catalog is None:
        from risk import ServiceCatalog

        catalog = ServiceCatalog.from_region(region)
    service.catalog = catalog  # decisions are checked against the services the form offers
    services = DistrictServices(catalog)
    with gr.Blocks(title=t(default, "title"), analytics_enabled=False) as app:
        if notice:
            gr.HTML(f'<div id="notice">{html.escape(notice)}</div>')
        with gr.Row():
            gr.HTML("")
            language = gr.Radio(
                [(LANG_NAMES[x], x) for x in LANGS],
                value=default,
                show_label=False,
                container=False,
                elem_id="language",
                scale=0,
                min_width=220,
            )
        uis: dict[Lang, _LanguageUI] = {}
        columns = []
        for x in LANGS:
            with gr.Column(visible=x == default) as column:
                uis[x] = _LanguageUI(x, service, services, model_uri)
            columns.append(column)
        for ui in uis.values():
            ui.wire()

        def switch(choice: str) -> list[Any]:
            return [gr.update(visible=choice == x) for x in LANGS]

        chosen = language.change(switch, language, columns, api_visibility="private")
        for ui in uis.values():
            # The page shown now takes over the open card and the queue page of the one hidden.
            other = next(u for u in uis.values() if u is not ui)
            carried = ui.carry_over(chosen, language, other)
            app.load(ui.on_load, None, ui.load_outputs(), api_visibility="private").then(
                ui.show_queue,
                [ui.f_district, ui.f_tier, ui.f_status, ui.page],
                ui.queue_outputs(),
                api_visibility="private",
            ).then(
                ui.supervisor_view, None, ui.supervisor_outputs(), api_visibility="private"
            ).then(ui.admin.load, None, ui.admin.table, api_visibility="private")
            carried.then(
                ui.show_queue,
                [ui.f_district, ui.f_tier, ui.f_status, ui.page],
                ui.queue_outputs(),
                api_visibility="private",
            )

        def opening_language(request: gr.Request) -> str:
            return preferred_language(
                request.query_params.get("lang"), request.headers.get("accept-language"), default
            )

        # Open in the person's language: the address's, else the browser's (as Gradio's login
        # page does), else the server's. A different one than the default fires the switch.
        app.load(opening_language, None, language, api_visibility="private")
        define_api(service, default)
    return app
