"""What every command shares: clean error reporting and progress bars."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import ParamSpec, TypeVar

import typer

from features import RiskError

P = ParamSpec("P")
T = TypeVar("T")

#: Exception types whose message is meant for the user: printed without a traceback. The
#: library's own errors carry their exit code (bad input 2, unavailable service or environment 1);
#: the others here are bad input.
USER_ERRORS: tuple[type[BaseException], ...] = (
    RiskError,
    ValueError,
    FileNotFoundError,
    PermissionError,
)

#: The exit codes of the ``risk`` command, for ``--help`` epilogues and the README.
EXIT_CODES_HELP = (
    "Exit codes: 0 done; 1 a service or the environment is unavailable (store, tracking "
    "server, Spark, a missing package); 2 bad input (records, configuration, arguments) or a "
    "refused request."
)


def exit_code(exc: BaseException) -> int:
    """Exit code for an error meant for the user: its kind's, else 2 (bad input)."""
    return exc.exit_code if isinstance(exc, RiskError) else 2


def user_errors(func: Callable[P, T]) -> Callable[P, T]:
    """Turn expected errors into one line and the exit code of their kind (see ``exit_code``)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except USER_ERRORS as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(code=exit_code(exc)) from None

    return wrapper


def progress(iterable: Iterable[T], *, desc: str, total: int | None = None) -> Iterator[T]:
    """Wrap ``iterable`` in a progress bar on stderr (silent when stderr is not a terminal)."""
    from tqdm.auto import tqdm

    yield from tqdm(
        iterable, desc=desc, total=total, file=sys.stderr, disable=None, leave=False, unit="step"
    )
