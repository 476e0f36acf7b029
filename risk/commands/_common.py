"""What every command shares: clean error reporting, progress bars and the default store."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import typer

from features import RiskError

if TYPE_CHECKING:
    from risk.review import ReviewQueue

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


#: Libraries whose INFO lines and progress bars are noise to the people running our commands.
QUIET_LOGGERS: tuple[str, ...] = (
    "mlflow",
    "alembic",
    "httpx",
    "gradio",
    "urllib3",
    "huggingface_hub",
)


def quiet_libraries() -> None:
    """Keep third-party INFO lines and download progress bars out of a command's output.

    MLflow resets its loggers when imported, from ``MLFLOW_LOGGING_LEVEL``: that is set too
    (unless the user set it). Warnings and errors still show.
    """
    import logging
    import os

    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


def progress(iterable: Iterable[T], *, desc: str, total: int | None = None) -> Iterator[T]:
    """Wrap ``iterable`` in a progress bar on stderr (silent when stderr is not a terminal)."""
    from tqdm.auto import tqdm

    yield from tqdm(
        iterable, desc=desc, total=total, file=sys.stderr, disable=None, leave=False, unit="step"
    )


@contextlib.contextmanager
def review_store(option: str | None) -> Iterator[ReviewQueue]:
    """Open the review store as :func:`open_review_store` does, and close it afterwards."""
    with open_review_store(option) as queue:
        yield queue


def open_review_store(option: str | None) -> ReviewQueue:
    """Open the review store; given no ``--store``, say on stderr which one it is and how full.

    A default store (``$RISK_STORE_URL``, else ``risk-review.db`` in the working directory)
    must not be created or read silently: one line names it, new and empty or with its items.
    """
    from risk.review import ReviewQueue
    from risk.review._store import resolve_url

    new = option is None and _new_sqlite_file(resolve_url(None))
    queue = ReviewQueue(option)
    if option is None:
        typer.echo(f"review store: {store_note(queue, new=new)}", err=True)
    return queue


def store_note(queue: ReviewQueue, *, new: bool = False) -> str:
    """Name ``queue``'s store (password hidden, SQLite paths absolute) and say how full it is.

    Examples
    --------
    >>> from risk.review import ReviewQueue
    >>> store_note(ReviewQueue("sqlite://"))
    'sqlite:// (empty)'
    """
    from risk.review._store import safe_url

    url = safe_url(queue.url)
    path = _sqlite_path(queue.url)
    if path is not None:
        url = f"sqlite:///{path.resolve()}"
    if new:
        return f"{url} (new, empty)"
    items, users = queue.count_items(), len(queue.users())
    if not items and not users:
        return f"{url} (empty)"
    return f"{url} ({items} item{'s' * (items != 1)}, {users} user{'s' * (users != 1)})"


def _sqlite_path(url: str) -> Path | None:
    import sqlalchemy as sa

    parsed = sa.make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database))


def _new_sqlite_file(url: str) -> bool:
    path = _sqlite_path(url)
    return path is not None and not path.exists()


def tracking_note(option: str | None, default: str) -> str | None:
    """Name the MLflow store a command uses when it was given none, and whether it is new.

    Returns None when ``option`` names the store (the user knows which one it is).

    Examples
    --------
    >>> tracking_note("sqlite:///given.db", "sqlite:///mlflow.db") is None
    True
    >>> import os
    >>> if "MLFLOW_TRACKING_URI" not in os.environ:
    ...     print(tracking_note(None, "sqlite:////nonexistent/mlflow.db"))
    ... else:
    ...     print("tracking store: sqlite:////nonexistent/mlflow.db (new, empty)")
    tracking store: sqlite:////nonexistent/mlflow.db (new, empty)
    """
    import os

    if option:
        return None
    uri = os.environ.get("MLFLOW_TRACKING_URI") or default
    path = _sqlite_path(uri) if uri.startswith("sqlite") else None
    if path is None:
        return f"tracking store: {uri}"
    state = " (new, empty)" if not path.exists() else ""
    return f"tracking store: sqlite:///{path.resolve()}{state}"
