"""The four named API endpoints, for ``gradio_client`` and integrations.

Each takes ``gr.Request`` and acts as the user the server authenticated, through
:class:`review_app._service.ReviewService`, exactly as the page does.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from review_app._i18n import Lang
from review_app._refusals import guarded, session_of
from review_app._service import Card, ReviewService
from risk.review import ITEM_COLUMNS

#: Names of the API endpoints (``gradio_client`` ``api_name="/<name>"``).
API_NAMES: tuple[str, ...] = ("list_queue", "open_family", "record_decision", "dispute_record")


def _jsonable(value: Any) -> Any:
    if isinstance(value, pd.Timestamp | pd.Timedelta):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def card_json(c: Card) -> dict[str, Any]:
    """Return a family card for the API: the item, its payload and the family's decisions."""
    item = c.item
    out: dict[str, Any] = {k: _jsonable(getattr(item, k)) for k in ITEM_COLUMNS}
    out["payload"] = dict(item.payload)
    out["decisions"] = [
        {k: _jsonable(v) for k, v in rec.items()}
        | {"services_offered": list(rec["services_offered"])}
        for rec in c.decisions.to_dict(orient="records")
    ]
    return out


def define_api(service: ReviewService, lang: Lang) -> None:
    """Define the four named endpoints (inside a ``gr.Blocks``) over ``service``."""

    @guarded(lang)
    def list_queue(
        request: gr.Request, page: int = 0, page_size: int = 100
    ) -> list[dict[str, Any]]:
        """List the logged-in user's items awaiting a decision, by tier then score.

        ``page`` 0 (the default): all of them; from 1: that page of ``page_size`` items.
        """
        return service.list_queue(
            request.username, page=int(page) or None, page_size=int(page_size)
        )

    @guarded(lang)
    def open_family(flag_id: int, request: gr.Request) -> dict[str, Any]:
        """Open a family card (the view is audited): item, payload and previous decisions."""
        return card_json(service.open_family(request.username, session_of(request), int(flag_id)))

    @guarded(lang)
    def record_decision(
        flag_id: int,
        decision: str,
        rationale: str,
        services_offered: list[str],
        agrees_with_model: bool,
        request: gr.Request,
    ) -> dict[str, Any]:
        """Record a decision on one item (against the version this session last opened)."""
        d = service.record_decision(
            request.username,
            session_of(request),
            int(flag_id),
            str(decision),
            str(rationale),
            [str(s) for s in services_offered or []],
            agrees_with_model,
        )
        return {
            "decision_id": d.decision_id,
            "flag_id": d.flag_id,
            "user": d.user,
            "decided_at": d.decided_at.isoformat(),
            "decision": d.decision,
            "services_offered": list(d.services_offered),
            "agrees_with_model": d.agrees_with_model,
            "item_version": d.item_version,
        }

    @guarded(lang)
    def dispute_record(event_id: str, reason: str, request: gr.Request) -> dict[str, Any]:
        """Mark a record of the family open in this session as disputed."""
        dispute_id = service.dispute_record(
            request.username, session_of(request), str(event_id), str(reason)
        )
        return {"dispute_id": dispute_id, "event_id": str(event_id)}

    for fn in (list_queue, open_family, record_decision, dispute_record):
        gr.api(fn, api_name=fn.__name__)
