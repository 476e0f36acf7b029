"""Errors of the screening API (below every module that raises them, so none imports another)."""

from __future__ import annotations

from features import InputError


class ScreeningError(InputError):
    """A screening request cannot be served (bad arguments, a family that was not screened)."""


class UnknownFamily(ScreeningError, KeyError):
    """A family id that is not in the screened population."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
