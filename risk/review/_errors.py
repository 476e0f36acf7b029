"""Errors of the review queue: each names what was refused and why."""

from __future__ import annotations

from features import InputError, UnavailableError


class ReviewError(InputError):
    """A review-queue operation was refused; the message says exactly why."""


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
