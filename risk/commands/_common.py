"""What every command shares: clean error reporting and progress bars."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import ParamSpec, TypeVar

import typer

P = ParamSpec("P")
T = TypeVar("T")

#: Exception types whose message is meant for the user: printed without a traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, FileNotFoundError, PermissionError)


def user_errors(func: Callable[P, T]) -> Callable[P, T]:
    """Turn expected errors (bad records, bad config, refusals) into one line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except USER_ERRORS as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(code=2) from None

    return wrapper


def progress(iterable: Iterable[T], *, desc: str, total: int | None = None) -> Iterator[T]:
    """Wrap ``iterable`` in a progress bar on stderr (silent when stderr is not a terminal)."""
    from tqdm.auto import tqdm

    yield from tqdm(
        iterable, desc=desc, total=total, file=sys.stderr, disable=None, leave=False, unit="step"
    )
