"""How the app refuses: ``risk.review``'s refusals phrased for the user, as text or ``gr.Error``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import gradio as gr

from review_app._i18n import DECISION_NAMES, Lang, district_name, name, t, text_keys
from risk.review import (
    AccessDenied,
    AuthenticationFailed,
    DecisionConflict,
    InvalidDecision,
    ReviewError,
    StoreUnavailable,
    UnknownItem,
)

F = TypeVar("F", bound=Callable[..., Any])

# The sentence for a refusal whose reason has none of its own, by kind.
_KIND_KEYS: dict[type, str] = {
    AuthenticationFailed: "err_login",
    AccessDenied: "err_access",
    DecisionConflict: "err_conflict",
    InvalidDecision: "err_invalid",
    UnknownItem: "err_unknown",
    StoreUnavailable: "err_store",
}


def refusal(exc: ReviewError | StoreUnavailable, lang: Lang) -> str:
    """Phrase a refusal for a person, in ``lang``: what was refused and what to do.

    The refusal's ``reason`` code (set where ``risk.review`` raises it) picks the sentence;
    the English message of ``risk`` (meant for logs and the command line, with its ids and
    codes) is never shown here.

    Examples
    --------
    >>> refusal(InvalidDecision("flag 3: ...", reason="services_required"), "en")
    'Pick at least one service offered to the family.'
    >>> refusal(AccessDenied("...", reason="district", params={"district": "valdaysky"}), "ru")
    'У вас нет доступа к семьям этого района: Валдайский район.'
    >>> refusal(DecisionConflict("flag 3: already decided"), "en")
    'Conflict: the item changed after you opened it. Reload it.'
    """
    reason = getattr(exc, "reason", "")
    params = dict(getattr(exc, "params", {}))
    if "district" in params:
        params["district"] = district_name(str(params["district"]), lang)
    if "decision" in params:
        params["decision"] = name(DECISION_NAMES, str(params["decision"]), lang)
    key = f"err_{reason}"
    if reason and key in text_keys():
        try:
            return t(lang, key, **params)
        except KeyError:  # a reason raised without the figures its sentence names
            pass
    kind = next((k for cls, k in _KIND_KEYS.items() if isinstance(exc, cls)), "err_other")
    return t(lang, kind)


def technical(exc: ReviewError | StoreUnavailable, lang: Lang) -> str:
    """Phrase a refusal for a program (the JSON API): the person's sentence, then ``risk``'s.

    Examples
    --------
    >>> technical(DecisionConflict("flag 3: already decided"), "en")
    'Conflict: the item changed after you opened it. Reload it. (flag 3: already decided)'
    """
    return f"{refusal(exc, lang)} ({exc})"


def error(exc: ReviewError | StoreUnavailable, lang: Lang) -> gr.Error:
    """Return the refusal as a ``gr.Error`` (a modal in the page), in the person's words."""
    return gr.Error(refusal(exc, lang), print_exception=False)


def refused(text: str, lang: Lang) -> str:
    """Mark a refusal shown in place (under the decision form or the dispute box).

    Examples
    --------
    >>> refused("Pick a decision.", "en")
    '❌ **Not saved:** Pick a decision.'
    """
    return f"❌ **{t(lang, 'refused')}:** {text}"


def guarded(lang: Lang) -> Callable[[F], F]:
    """Turn ``risk.review`` refusals into ``gr.Error`` for API clients (with ``risk``'s reason)."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except (ReviewError, StoreUnavailable) as exc:
                raise gr.Error(technical(exc, lang), print_exception=False) from None

        return inner  # type: ignore[return-value]

    return wrap


def session_of(request: gr.Request) -> str:
    """Return the browser session of a request (what it opened is remembered per session)."""
    return str(request.session_hash or "")
