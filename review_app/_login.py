"""A maximum login age: Gradio keeps a login in a cookie forever, the app does not accept that.

A user disabled by an admin is refused on their next request in the same way.

The time of each successful login is kept on the server, per user name; every request checks it
(through :class:`AgedLoginService`, the one place every handler loads its user) and is refused,
and audited as ``access_denied``, once the login is older than the limit. A server restart
forgets every login (Gradio's tokens live in memory too), so everyone logs in again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from review_app._auth import make_auth
from review_app._service import NotSupervisor, ReviewService
from risk.review import AddressThrottle, AuthenticationFailed, ReviewQueue, UnknownItem, User

#: Default maximum age of a login: one working day.
DEFAULT_MAX_LOGIN_AGE = timedelta(hours=8)


class LoginExpired(AuthenticationFailed):
    """The user's login is older than the maximum login age (or unknown to this server)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LoginAges:
    """When each user last logged in on this server, and whether that is recent enough.

    Parameters
    ----------
    queue : ReviewQueue
        Where refusals are audited.
    max_age : timedelta
        How long a login stays valid.
    clock : callable, optional
        Returns the current UTC time (tests pass their own).

    Examples
    --------
    >>> q = ReviewQueue("sqlite://")
    >>> ages = LoginAges(q, timedelta(hours=8))
    >>> ages.record("anna")
    >>> ages.check("anna")
    >>> ages.check("boris")
    Traceback (most recent call last):
    ...
    review_app._login.LoginExpired: no login of 'boris' on this server; log in again (/logout)
    >>> q.audit_log()["action"].tolist()
    ['access_denied']
    """

    def __init__(
        self,
        queue: ReviewQueue,
        max_age: timedelta = DEFAULT_MAX_LOGIN_AGE,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if max_age <= timedelta(0):
            raise ValueError(f"the maximum login age must be positive; got {max_age}")
        self.queue = queue
        self.max_age = max_age
        self._clock = clock
        self._at: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def record(self, username: str) -> None:
        """Remember that ``username`` has just logged in."""
        with self._lock:
            self._at[username] = self._clock()

    def check(self, username: str | None) -> None:
        """Refuse (and audit) a request whose login is too old; no name is left to the service.

        Raises
        ------
        LoginExpired
        """
        if not username:
            return
        with self._lock:
            at = self._at.get(username)
        now = self._clock()
        if at is None:
            reason, message = "no login", f"no login of {username!r} on this server"
        elif now - at > self.max_age:
            reason = "login expired"
            message = f"the login of {username!r} is older than {self.max_age}"
        else:
            return
        self.queue.log_refusal(username, "request", reason)
        raise LoginExpired(f"{message}; log in again (/logout)")


class AccountDisabled(AuthenticationFailed):
    """The user was disabled since they logged in: their open session is refused."""


class AgedLoginService(ReviewService):
    """A :class:`ReviewService` that refuses users whose login is too old, or who were disabled.

    Every handler of the app loads its user through :meth:`ReviewService.user`, so checking
    there covers the page and the API alike.
    """

    def __init__(self, queue: ReviewQueue, ages: LoginAges, **kwargs: Any) -> None:
        super().__init__(queue, **kwargs)
        self.ages = ages

    def user(self, username: str | None) -> User:
        """Load the user behind an authenticated name whose login is recent enough."""
        self.ages.check(username)
        if not username:
            raise AuthenticationFailed("not logged in; log in first")
        try:
            user, active = self.queue.get_user_and_active(username)
        except UnknownItem:
            raise AuthenticationFailed(f"unknown user {username!r}; log in again") from None
        # Gradio's login cookie outlives a disable: the store is asked on every request.
        if not active:
            self.queue.log_refusal(user.name, "request", "disabled")
            raise AccountDisabled(f"the account {user.name!r} is disabled")
        return user

    def supervisor(self, username: str | None) -> User:
        """Load a supervisor; a refusal (a specialist asking for the view) is audited."""
        try:
            return super().supervisor(username)
        except NotSupervisor:
            self.queue.log_refusal(username or "anonymous", "supervisor view", "role")
            raise


def make_aged_auth(
    queue: ReviewQueue, ages: LoginAges, *, throttle: AddressThrottle | None = None
) -> Callable[..., bool]:
    """Return Gradio's ``auth`` callable that also records the time of each successful login.

    ``throttle`` limits failed logins per client address (see :func:`make_auth`).

    Examples
    --------
    >>> q = ReviewQueue("sqlite://")
    >>> _ = q.add_user("anna", "correct horse", "specialist", ["north"])
    >>> ages = LoginAges(q)
    >>> make_aged_auth(q, ages)("anna", "correct horse")
    True
    >>> ages.check("anna")
    """
    auth = make_auth(queue, throttle=throttle)

    def aged(username: str, password: str, client: str | None = None) -> bool:
        ok = auth(username, password, client)
        if ok:
            ages.record(username)
        return ok

    return aged
