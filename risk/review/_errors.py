"""Errors of the review queue: each names what was refused and why."""

from __future__ import annotations

from collections.abc import Mapping

from features import InputError, UnavailableError


class ReviewError(InputError):
    """A review-queue operation was refused; the message says exactly why.

    Parameters
    ----------
    message : str
        The reason in English, for logs and the command line.
    reason : str
        What was refused, as a code an interface translates (e.g. ``services_required``);
        empty where only the kind of error is known.
    params : mapping, optional
        The figures the reason names (e.g. ``{"min": 20, "got": 5}``), for the translation.

    Examples
    --------
    >>> e = InvalidDecision("flag 3: rationale too short", reason="rationale_short",
    ...                     params={"min": 20})
    >>> str(e), e.reason, e.params["min"]
    ('flag 3: rationale too short', 'rationale_short', 20)
    """

    def __init__(
        self, message: str = "", *, reason: str = "", params: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.params: Mapping[str, object] = dict(params or {})


class AccessDenied(ReviewError):
    """The acting user may not see or act on the family's district."""


class DecisionConflict(ReviewError):
    """The item changed since it was read (another decision won, or it was already decided)."""


class InvalidDecision(ReviewError):
    """A decision or dispute is malformed (unknown code, short rationale, missing services)."""


class InvalidUser(ReviewError):
    """A user cannot be added as given (bad name, role, districts or password)."""


class UnknownItem(ReviewError):
    """No such flag, run, user or family in the store."""


class AuthenticationFailed(ReviewError):
    """No user, an unknown user, a wrong password, or a login attempted while locked out."""


class StoreUnavailable(UnavailableError):
    """The store cannot be reached (or stayed busy) within the configured timeouts."""
