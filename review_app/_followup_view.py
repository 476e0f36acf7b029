"""The follow-up section of the family card and the supervisor's actions on overdue items.

Each action goes through :class:`review_app._service.ReviewService` (so through ``risk.review``'s
checks and audit log) and the section is read again from the store after it, so what is shown is
what was stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import gradio as gr
import pandas as pd

from review_app._catalog import DistrictServices
from review_app._i18n import (
    CHANNEL_NAMES,
    FOLLOW_UP_STATUS_NAMES,
    OUTCOME_NAMES,
    STAGE_NAMES,
    STEP_NAMES,
    Lang,
    count,
    name,
    t,
    when,
)
from review_app._refusals import refusal, refused
from review_app._service import ReviewService
from review_app._text import escape_text
from risk.review import (
    CHANNELS,
    MIN_RATIONALE_LENGTH,
    OUTCOMES,
    SERVICE_STAGES,
    ReviewError,
    StoreUnavailable,
)

_PRIVATE: dict[str, Any] = {"api_visibility": "private"}


def _day(value: Any, lang: Lang) -> str:
    """Say a moment as a person reads it: a date alone, or with the time in the region's zone."""
    if value is None or pd.isna(value):
        return "—"
    at = pd.Timestamp(value)
    if at.hour or at.minute or at.second:
        return when(at.to_pydatetime(), lang)
    return when(at.date(), lang)


def follow_up_summary(head: Mapping[str, Any] | None, due: int, lang: Lang) -> str:
    """Describe a follow-up's state (or say that the card has none).

    Examples
    --------
    >>> head = {"followup_id": 3, "status": "open", "opened_at": datetime(2026, 11, 2),
    ...         "outreach_started_at": None, "closed_at": None}
    >>> follow_up_summary(head, 3, "en")
    'Follow-up 3: **under way**; opened 2 November 2026; outreach started: not yet; first contact due within 3 working days.'
    """  # noqa: E501
    if head is None:
        return t(lang, "fu_none")
    started = head.get("outreach_started_at")
    text = t(
        lang,
        "fu_state",
        id=int(head["followup_id"]),
        status=name(FOLLOW_UP_STATUS_NAMES, str(head["status"]), lang),
        opened=_day(head["opened_at"], lang),
        started=t(lang, "fu_not_started")
        if started is None or pd.isna(started)
        else _day(started, lang),
        due=count(due, "working_days", lang),
    )
    if head.get("closed_at") is not None and not pd.isna(head["closed_at"]):
        text += "\n\n" + t(
            lang,
            "fu_closed",
            at=_day(head["closed_at"], lang),
            outcome=name(OUTCOME_NAMES, str(head["outcome"]), lang),
            rationale=escape_text(head["rationale"]),
        )
    return text


def steps_table(events: pd.DataFrame, services: Mapping[str, str], lang: Lang) -> pd.DataFrame:
    """Show a follow-up's steps as a localised table, in the order recorded."""
    cols = [t(lang, k) for k in ("fu_col_date", "fu_col_kind", "fu_col_detail", "fu_col_user")]
    if events.empty:
        return pd.DataFrame(columns=cols)
    details = []
    for e in events.itertuples():
        if e.kind == "contact":
            reached = t(lang, "fu_yes" if e.reached else "fu_no")
            detail = f"{name(CHANNEL_NAMES, str(e.channel), lang)}; {t(lang, 'fu_reached')}: "
            detail += reached
        elif e.kind == "service":
            label = services.get(str(e.service_id), str(e.service_id))
            detail = f"{label}: {name(STAGE_NAMES, str(e.stage), lang)}"
        else:
            detail = ""
        if e.note:
            detail = f"{detail} — {e.note!s}" if detail else str(e.note)
        details.append(detail)
    return pd.DataFrame(
        dict(
            zip(
                cols,
                [
                    [_day(d, lang) for d in events["happened_on"]],
                    [name(STEP_NAMES, str(k), lang) for k in events["kind"]],
                    details,
                    events["user"].astype(str).tolist(),
                ],
                strict=True,
            )
        )
    )


def _parse_day(value: str | None, lang: Lang) -> date:
    text = (value or "").strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ReviewError(t(lang, "fu_bad_date", value=text)) from None


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


class FollowUpPanel:
    """The follow-up section of the family card, built inside the card tab."""

    def __init__(self, lang: Lang, service: ReviewService, catalog: DistrictServices) -> None:
        self.lang = lang
        self.service = service
        self.catalog = catalog
        L = lang
        with gr.Accordion(t(L, "fu_head"), open=True, visible=False) as self.box:
            self.followup_id = gr.State(None)
            self.summary = gr.Markdown("")
            self.steps = gr.Dataframe(interactive=False, max_height=300)
            with gr.Row():
                self.on = gr.Textbox(label=t(L, "fu_date"), scale=1)
                self.note = gr.Textbox(label=t(L, "fu_note"), scale=3)
            with gr.Row():
                self.channel = gr.Dropdown(
                    [(name(CHANNEL_NAMES, c, L), c) for c in CHANNELS],
                    value=CHANNELS[0],
                    label=t(L, "fu_channel"),
                )
                self.reached = gr.Checkbox(label=t(L, "fu_reached"))
                self.contact = gr.Button(t(L, "fu_contact"))
            with gr.Row():
                self.service_id = gr.Dropdown([], label=t(L, "fu_service"))
                self.stage = gr.Dropdown(
                    [(name(STAGE_NAMES, s, L), s) for s in SERVICE_STAGES],
                    value=SERVICE_STAGES[0],
                    label=t(L, "fu_stage"),
                )
                self.record_service = gr.Button(t(L, "fu_record_service"))
            self.declined = gr.Button(t(L, "fu_declined"))
            with gr.Row():
                self.outcome = gr.Dropdown(
                    [(name(OUTCOME_NAMES, o, L), o) for o in OUTCOMES], label=t(L, "fu_outcome")
                )
                self.rationale = gr.Textbox(
                    label=t(L, "fu_rationale") + f" (≥ {MIN_RATIONALE_LENGTH})", lines=2, scale=3
                )
            self.close = gr.Button(t(L, "fu_close"), variant="primary")
            self.result = gr.Markdown("")

    def outputs(self) -> list[Any]:
        return [self.box, self.followup_id, self.summary, self.steps, self.service_id, self.on]

    def wire(self, card_state: gr.State) -> None:
        """Connect the actions; each re-reads the follow-up from the store afterwards."""
        shown = [card_state, self.followup_id]
        actions: list[tuple[gr.Button, Callable[..., str], list[Any]]] = [
            (self.contact, self.do_contact, [self.on, self.channel, self.reached, self.note]),
            (self.record_service, self.do_service, [self.on, self.service_id, self.stage]),
            (self.declined, self.do_declined, [self.on, self.note]),
            (self.close, self.do_close, [self.outcome, self.rationale]),
        ]
        for button, handler, inputs in actions:
            button.click(handler, [*shown, *inputs], self.result, **_PRIVATE).then(
                self.show, card_state, self.outputs(), **_PRIVATE
            )

    def show(self, state: tuple[int, str, str] | None, request: gr.Request) -> list[Any]:
        """Read the card's follow-up again (hidden when the card has none)."""
        L = self.lang
        if not state:
            return [gr.update(visible=False), None, "", None, gr.update(), gr.update()]
        flag_id, _, district = state
        try:
            head, events = self.service.follow_up(request.username, int(flag_id))
        except (ReviewError, StoreUnavailable) as exc:
            return [
                gr.update(visible=True),
                None,
                refused(refusal(exc, L), L),
                None,
                gr.update(),
                gr.update(),
            ]
        names = self.catalog.names(district, L)
        due = self.service.first_contact_working_days
        return [
            gr.update(visible=head is not None),
            None if head is None else int(head["followup_id"]),
            follow_up_summary(head, due, L),
            steps_table(events, names, L),
            gr.update(choices=[(label, sid) for sid, label in names.items()], value=None),
            gr.update(value=_today()),
        ]

    def _act(self, followup_id: int | None, action: Callable[[], int]) -> str:
        L = self.lang
        if followup_id is None:
            return refused(t(L, "fu_none"), L)
        try:
            return t(L, "fu_saved", version=action())
        except (ReviewError, StoreUnavailable) as exc:
            return refused(refusal(exc, L), L)

    def do_contact(
        self,
        state: Any,
        followup_id: int | None,
        on: str,
        channel: str,
        reached: bool,
        note: str,
        request: gr.Request,
    ) -> str:
        """Record a contact attempt."""
        return self._act(
            followup_id,
            lambda: self.service.record_contact(
                request.username,
                int(followup_id or 0),
                _parse_day(on, self.lang),
                channel,
                bool(reached),
                note or "",
            ),
        )

    def do_service(
        self,
        state: Any,
        followup_id: int | None,
        on: str,
        service_id: str | None,
        stage: str,
        request: gr.Request,
    ) -> str:
        """Record a service accepted, started or completed."""
        return self._act(
            followup_id,
            lambda: self.service.record_service(
                request.username,
                int(followup_id or 0),
                str(service_id or ""),
                stage,
                _parse_day(on, self.lang),
                catalog=self.catalog.catalog,
            ),
        )

    def do_declined(
        self, state: Any, followup_id: int | None, on: str, note: str, request: gr.Request
    ) -> str:
        """Record that the family declined further help."""
        return self._act(
            followup_id,
            lambda: self.service.record_declined(
                request.username, int(followup_id or 0), _parse_day(on, self.lang), note or ""
            ),
        )

    def do_close(
        self,
        state: Any,
        followup_id: int | None,
        outcome: str | None,
        rationale: str,
        request: gr.Request,
    ) -> str:
        """Close the follow-up with an outcome and a rationale."""
        return self._act(
            followup_id,
            lambda: self.service.close_follow_up(
                request.username, int(followup_id or 0), str(outcome or ""), rationale or ""
            ),
        )


class SupervisorActions:
    """Reassign, note or open an overdue item, built inside the supervisor tab."""

    def __init__(self, lang: Lang, service: ReviewService) -> None:
        self.lang = lang
        self.service = service
        L = lang
        gr.Markdown("### " + t(L, "sup_actions"))
        with gr.Row():
            self.flag = gr.Number(label=t(L, "sup_flag"), precision=0, scale=0)
            self.load = gr.Button(t(L, "sup_load"), size="sm", scale=0)
            self.to = gr.Dropdown([], label=t(L, "sup_assign_to"), scale=2)
            self.reassign = gr.Button(t(L, "sup_reassign"), scale=0)
        with gr.Row():
            self.note = gr.Textbox(label=t(L, "sup_note"), lines=2, scale=3)
            self.add_note = gr.Button(t(L, "sup_add_note"), scale=0)
        self.open = gr.Button(t(L, "sup_open_decide"), size="sm")
        self.notes = gr.Markdown("")
        self.result = gr.Markdown("")

    def wire(
        self,
        table: gr.Dataframe,
        open_card: Callable[..., list[Any]],
        card_outputs: list[Any],
        after_open: Callable[[Any], Any],
        refresh: Callable[..., list[Any]],
        refresh_outputs: list[Any],
    ) -> None:
        """Connect the actions; the overdue list is read again after each."""
        picked = [self.to, self.notes]
        table.select(self.pick, None, [self.flag, *picked], **_PRIVATE)
        self.load.click(self.choices, self.flag, picked, **_PRIVATE)
        self.reassign.click(self.do_reassign, [self.flag, self.to], self.result, **_PRIVATE).then(
            refresh, None, refresh_outputs, **_PRIVATE
        )
        self.add_note.click(self.do_note, [self.flag, self.note], self.result, **_PRIVATE).then(
            self.choices, self.flag, picked, **_PRIVATE
        )
        after_open(self.open.click(open_card, self.flag, card_outputs, **_PRIVATE))

    def pick(self, evt: gr.SelectData, request: gr.Request) -> list[Any]:
        """Select the clicked row's item."""
        row = evt.row_value if evt.row_value is not None else []
        if not row:
            return [gr.update(), gr.update(), gr.update()]
        return [int(row[0]), *self.choices(int(row[0]), request)]

    def choices(self, flag_id: float | None, request: gr.Request) -> list[Any]:
        """List the specialists the item can go to, and its notes."""
        L = self.lang
        if flag_id is None:
            return [gr.update(choices=[], value=None), ""]
        try:
            notes = self.service.notes(request.username, int(flag_id))
            names = self.service.specialists_for(request.username, int(flag_id))
        except (ReviewError, StoreUnavailable) as exc:
            return [gr.update(choices=[], value=None), refused(refusal(exc, L), L)]
        text = "#### " + t(L, "sup_notes") + "\n\n"
        if notes.empty:
            text += t(L, "sup_notes_none")
        else:
            text += "\n".join(
                f"- {_day(n.at, self.lang)} **{escape_text(n.user)}**: {escape_text(n.text)}"
                for n in notes.itertuples()
            )
        if not names:
            text += "\n\n" + t(L, "sup_no_specialists")
        return [gr.update(choices=names, value=None), text]

    def do_reassign(self, flag_id: float | None, to: str | None, request: gr.Request) -> str:
        """Reassign the item to the chosen specialist."""
        L = self.lang
        try:
            self.service.reassign(request.username, int(flag_id or 0), str(to or ""))
        except (ReviewError, StoreUnavailable) as exc:
            return refused(refusal(exc, L), L)
        return t(L, "sup_reassigned", flag=int(flag_id or 0), to=to)

    def do_note(self, flag_id: float | None, text: str, request: gr.Request) -> str:
        """Add the note to the item."""
        L = self.lang
        try:
            note_id = self.service.add_note(request.username, int(flag_id or 0), text or "")
        except (ReviewError, StoreUnavailable) as exc:
            return refused(refusal(exc, L), L)
        return t(L, "sup_noted", id=note_id, flag=int(flag_id or 0))
