"""How the app refuses: ``risk.review``'s refusals phrased for the user, as text or ``gr.Error``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import gradio as gr

from review_app._i18n import Lang, t
from risk.review import (
    MIN_RATIONALE_LENGTH,
    AccessDenied,
    AuthenticationFailed,
    DecisionConflict,
    InvalidDecision,
    ReviewError,
    StoreUnavailable,
    UnknownItem,
)

F = TypeVar("F", bound=Callable[..., Any])


def refusal(exc: ReviewError | StoreUnavailable, lang: Lang) -> str:
    """Phrase a refusal for the user: what kind (localised), then ``risk``'s exact reason.

    Examples
    --------
    >>> refusal(DecisionConflict("flag 3: already decided"), "en")
    'Conflict: the item changed after you opened it. Reload it. (flag 3: already decided)'
    """
    if isinstance(exc, AuthenticationFailed):
        lead = t(lang, "err_login")
    elif isinstance(exc, AccessDenied):
        lead = t(lang, "err_access")
    elif isinstance(exc, DecisionConflict):
        lead = t(lang, "err_conflict")
    elif isinstance(exc, InvalidDecision) and "rationale" in str(exc):
        lead = t(lang, "err_rationale", n=MIN_RATIONALE_LENGTH)
    elif isinstance(exc, InvalidDecision):
        lead = t(lang, "err_invalid")
    elif isinstance(exc, UnknownItem):
        lead = t(lang, "err_unknown")
    elif isinstance(exc, StoreUnavailable):
        lead = t(lang, "err_store")
    else:
        lead = t(lang, "err_other")
    return f"{lead} ({exc})"


def error(exc: ReviewError | StoreUnavailable, lang: Lang) -> gr.Error:
    """Return the refusal as a ``gr.Error`` (a modal in the page, an error for API clients)."""
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
    """Turn ``risk.review`` refusals into ``gr.Error`` (a modal in the page, an API error)."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except (ReviewError, StoreUnavailable) as exc:
                raise error(exc, lang) from None

        return inner  # type: ignore[return-value]

    return wrap


def session_of(request: gr.Request) -> str:
    """Return the browser session of a request (what it opened is remembered per session)."""
    return str(request.session_hash or "")
