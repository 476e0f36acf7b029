"""Login backed by the review queue's users, and the demo's users."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from contextvars import ContextVar

from risk.review import (
    AddressThrottle,
    AuthenticationFailed,
    ReviewQueue,
    StoreUnavailable,
    UnknownItem,
)

#: The address of the client whose login is being checked (set by the served app per request).
LOGIN_CLIENT: ContextVar[str | None] = ContextVar("login_client", default=None)

#: Demo user names: one specialist per pair of districts, one supervisor for all.
DEMO_SPECIALIST = "specialist{:02d}"
DEMO_SUPERVISOR = "supervisor"


def make_auth(
    queue: ReviewQueue, *, throttle: AddressThrottle | None = None
) -> Callable[..., bool]:
    """Return Gradio's ``auth`` callable: True when ``risk.review`` authenticates the user.

    Every attempt is audited and repeated failures slowed down by the queue itself, per user
    name and, with ``throttle``, per client address (given as ``client=``, else taken from
    :data:`LOGIN_CLIENT`).

    Examples
    --------
    >>> q = ReviewQueue("sqlite://")
    >>> _ = q.add_user("anna", "correct horse", "specialist", ["north"])
    >>> auth = make_auth(q)
    >>> auth("anna", "correct horse"), auth("anna", "wrong horse"), auth("", "x")
    (True, False, False)
    """

    def auth(username: str, password: str, client: str | None = None) -> bool:
        try:
            queue.authenticate(
                username, password, client=client or LOGIN_CLIENT.get(), throttle=throttle
            )
        except (AuthenticationFailed, StoreUnavailable):
            return False
        return True

    return auth


def demo_users(
    queue: ReviewQueue, districts: Sequence[str]
) -> list[tuple[str, str | None, str, tuple[str, ...]]]:
    """Create the demo's users (idempotently): a specialist per pair of districts, a supervisor.

    Passwords are random and returned once, to be printed once; a user who already exists is
    left as it is and returned with password None.

    Parameters
    ----------
    queue : ReviewQueue
        The demo store.
    districts : sequence of str
        District codes, paired in sorted order (an odd one out gets a specialist alone).

    Returns
    -------
    list of (name, password or None, role, districts)

    Examples
    --------
    >>> q = ReviewQueue("sqlite://")
    >>> users = demo_users(q, ["north", "south", "east"])
    >>> [(n, r, d) for n, _, r, d in users]  # doctest: +NORMALIZE_WHITESPACE
    [('specialist01', 'specialist', ('east', 'north')),
     ('specialist02', 'specialist', ('south',)),
     ('supervisor', 'supervisor', ('east', 'north', 'south'))]
    >>> [p is None for _, p, _, _ in demo_users(q, ["north", "south", "east"])]
    [True, True, True]
    """
    ordered = sorted({str(d) for d in districts})
    if not ordered:
        raise ValueError("demo_users: no districts given")
    wanted: list[tuple[str, str, tuple[str, ...]]] = [
        (DEMO_SPECIALIST.format(i // 2 + 1), "specialist", tuple(ordered[i : i + 2]))
        for i in range(0, len(ordered), 2)
    ]
    wanted.append((DEMO_SUPERVISOR, "supervisor", tuple(ordered)))
    out: list[tuple[str, str | None, str, tuple[str, ...]]] = []
    for user_name, role, ds in wanted:
        try:
            queue.get_user(user_name)
        except UnknownItem:
            password = secrets.token_urlsafe(9)
            queue.add_user(user_name, password, role, ds, actor="demo")
            out.append((user_name, password, role, ds))
        else:
            out.append((user_name, None, role, ds))
    return out
