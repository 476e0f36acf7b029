"""Users, the one access rule, password hashing and the failed-login back-off (all pure)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from risk.review._errors import InvalidUser

Role = Literal["specialist", "supervisor", "admin"]

#: Roles a user may have. Admins manage users; district access still needs granted districts.
ROLES: tuple[str, ...] = ("specialist", "supervisor", "admin")

#: Roles that see supervisors' aggregate views (still only of their own districts).
SUPERVISOR_ROLES: tuple[str, ...] = ("supervisor", "admin")

MIN_PASSWORD_LENGTH = 8
#: Longest user name a login may give (the name rule's own bound): longer ones never reach a query.
MAX_USER_NAME_LENGTH = 128
#: Longest password a login may give, in UTF-8 bytes: longer ones are refused before hashing.
MAX_PASSWORD_BYTES = 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")

# scrypt parameters: n=2**14, r=8 needs 16 MiB per hash, about 50 ms on a laptop.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_KEY_BYTES = 32


@dataclass(frozen=True)
class User:
    """A person who reviews flags.

    Attributes
    ----------
    name : str
        Login name (letters, digits, ``._@-``).
    role : {"specialist", "supervisor", "admin"}
        What the user does; admins manage users.
    districts : frozenset of str
        Districts whose families the user may see. The role grants none by itself.
    """

    name: str
    role: str
    districts: frozenset[str]


def can_access(user: User, district: str) -> bool:
    """Whether ``user`` may see and act on families of ``district``.

    The one access rule of the review queue: a user sees a family only if the family's
    district was granted to them. No role bypasses it (an admin without districts sees nothing).

    Examples
    --------
    >>> anna = User("anna", "specialist", frozenset({"north"}))
    >>> can_access(anna, "north"), can_access(anna, "south")
    (True, False)
    >>> can_access(User("root", "admin", frozenset()), "north")
    False
    """
    return district in user.districts


def validate_user(name: str, password: str, role: str, districts: Iterable[str]) -> User:
    """Check a new user's fields and return the :class:`User` (the password is not kept).

    Raises
    ------
    InvalidUser
        Naming the field that is wrong.

    Examples
    --------
    >>> validate_user("anna", "correct horse", "specialist", ["north"]).districts
    frozenset({'north'})
    >>> validate_user("anna", "short", "specialist", ["north"])
    Traceback (most recent call last):
    ...
    risk.review._errors.InvalidUser: user 'anna': password must be at least 8 characters; got 5
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidUser(
            f"user {name!r}: name must be 1-128 letters, digits or '._@-', starting with a "
            "letter or digit",
            reason="bad_user_name",
        )
    ds = validate_grant(name, role, districts)
    validate_password(name, password)
    return User(name=name, role=role, districts=ds)


def validate_grant(name: str, role: str, districts: Iterable[str]) -> frozenset[str]:
    """Check a user's role and districts together; return the districts as a set.

    Raises
    ------
    InvalidUser
        An unknown role, a blank district, or a specialist or supervisor without districts.

    Examples
    --------
    >>> sorted(validate_grant("anna", "specialist", [" north", "south"]))
    ['north', 'south']
    >>> validate_grant("anna", "supervisor", [])
    Traceback (most recent call last):
    ...
    risk.review._errors.InvalidUser: user 'anna': a supervisor needs at least one district
    """
    if role not in ROLES:
        raise InvalidUser(
            f"user {name!r}: role must be one of {', '.join(ROLES)}; got {role!r}",
            reason="bad_role",
        )
    if isinstance(districts, str):
        districts = [districts]
    ds = frozenset(d.strip() for d in districts)
    if any(not d for d in ds):
        raise InvalidUser(
            f"user {name!r}: district names must not be blank", reason="blank_district"
        )
    if role != "admin" and not ds:
        raise InvalidUser(
            f"user {name!r}: a {role} needs at least one district", reason="needs_district"
        )
    return ds


def validate_password(name: str, password: str) -> None:
    """Check a new password's length (at least 8 characters, at most 1024 UTF-8 bytes).

    Raises
    ------
    InvalidUser
        Too short or too long; the password itself is never quoted.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidUser(
            f"user {name!r}: password must be at least {MIN_PASSWORD_LENGTH} characters; "
            f"got {len(password)}",
            reason="short_password",
            params={"n": MIN_PASSWORD_LENGTH},
        )
    if len(password.encode("utf-8", "surrogatepass")) > MAX_PASSWORD_BYTES:
        raise InvalidUser(
            f"user {name!r}: password must be at most {MAX_PASSWORD_BYTES} bytes",
            reason="long_password",
        )


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """Hash ``password`` with scrypt into ``scrypt$n$r$p$salt_b64$hash_b64``.

    Examples
    --------
    >>> h = hash_password("correct horse")
    >>> h.startswith("scrypt$16384$8$1$"), verify_password("correct horse", h)
    (True, True)
    >>> verify_password("wrong horse", h)
    False
    """
    salt = os.urandom(_SALT_BYTES) if salt is None else salt
    key = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=_KEY_BYTES
    )
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(key).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches ``encoded`` (constant-time comparison)."""
    try:
        scheme, n, r, p, salt_b64, key_b64 = encoded.split("$")
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(key_b64)
        n_, r_, p_ = int(n), int(r), int(p)
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    key = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n_,
        r=r_,
        p=p_,
        dklen=len(expected),
        maxmem=256 * r_ * n_ + 1024 * 1024,
    )
    return hmac.compare_digest(key, expected)


# A hash to check against for unknown users, so that they take as long as known ones.
_DUMMY_HASH = hash_password("not a real password", salt=b"\0" * _SALT_BYTES)


def burn_password_check(password: str) -> None:
    """Spend the time of one password check (for unknown users: no timing oracle)."""
    verify_password(password, _DUMMY_HASH)


def login_fields_problem(name: object, password: object) -> str | None:
    r"""Say why a login's fields cannot name a user, before any of them reaches the store.

    Returns None for fields a query may see: a name of at most :data:`MAX_USER_NAME_LENGTH`
    printable characters and a password of at most :data:`MAX_PASSWORD_BYTES` UTF-8 bytes.

    Examples
    --------
    >>> login_fields_problem("anna", "correct horse") is None
    True
    >>> login_fields_problem("x" * 900_000, "p"), login_fields_problem("an\0na", "p")
    ('user name too long', 'user name not printable')
    >>> login_fields_problem("anna", "p" * 2000)
    'password too long'
    """
    if not isinstance(name, str) or not name:
        return "no user"
    if len(name) > MAX_USER_NAME_LENGTH:
        return "user name too long"
    if not name.isprintable():
        return "user name not printable"
    if not isinstance(password, str):
        return "no password"
    if len(password.encode("utf-8", "surrogatepass")) > MAX_PASSWORD_BYTES:
        return "password too long"
    return None


# Fingerprints are keyed per process: they group one server's attempts under the same name
# without letting a reader of the log test guesses (a mistyped password) against them.
_FINGERPRINT_KEY = os.urandom(32)


def name_fingerprint(name: str) -> str:
    """Return a short keyed fingerprint of a login name that is no user (never its text).

    Examples
    --------
    >>> f = name_fingerprint("my secret password")
    >>> f.startswith("name#"), len(f), f == name_fingerprint("my secret password")
    (True, 17, True)
    """
    data = name.encode("utf-8", "surrogatepass")
    return "name#" + hmac.new(_FINGERPRINT_KEY, data, hashlib.sha256).hexdigest()[:12]


@dataclass(frozen=True)
class LoginPolicy:
    """How repeated failed logins are slowed down.

    After ``free_attempts`` consecutive failures, each further failure locks the user out for
    ``base_delay_s * 2 ** (failures - free_attempts - 1)`` seconds, at most ``max_delay_s``.
    The counter and the lock live in the database, so they survive restarts; a successful
    login resets them.

    Examples
    --------
    >>> policy = LoginPolicy()
    >>> [policy.delay(n).total_seconds() for n in (1, 3, 4, 5, 6, 30)]
    [0.0, 0.0, 1.0, 2.0, 4.0, 900.0]
    """

    free_attempts: int = 3
    base_delay_s: float = 1.0
    max_delay_s: float = 900.0

    def delay(self, failures: int) -> timedelta:
        """Return the lockout after ``failures`` consecutive failed logins."""
        extra = failures - self.free_attempts
        if extra <= 0:
            return timedelta(0)
        seconds = min(self.max_delay_s, self.base_delay_s * 2.0 ** min(extra - 1, 60))
        return timedelta(seconds=seconds)

    def locked_until(self, failures: int, now: datetime) -> datetime | None:
        """Return when the lockout after ``failures`` failures ends (None: no lockout)."""
        d = self.delay(failures)
        return now + d if d > timedelta(0) else None


class AddressThrottle:
    """Failed logins per client address, in memory: too many in a window refuse the next ones.

    The per-user lockout (:class:`LoginPolicy`, in the store) stops guessing one user's password;
    this stops one address trying many names. After ``max_failures`` failures within
    ``window_s`` seconds, logins from that address are refused, without a password hash, until
    the oldest failure leaves the window. A successful login does not clear the count.

    Examples
    --------
    >>> clock = iter(range(100)).__next__
    >>> throttle = AddressThrottle(max_failures=2, window_s=10, clock=clock)
    >>> throttle.failed("10.0.0.7"); throttle.failed("10.0.0.7")
    >>> throttle.blocked("10.0.0.7"), throttle.blocked("10.0.0.8")
    (True, False)
    """

    def __init__(
        self,
        max_failures: int = 20,
        window_s: float = 600.0,
        *,
        max_addresses: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_addresses = max_addresses
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._failures.setdefault(address, deque())
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def blocked(self, address: str) -> bool:
        """Whether logins from ``address`` are refused now."""
        with self._lock:
            if address not in self._failures:
                return False
            return len(self._recent(address, self._clock())) >= self.max_failures

    def failed(self, address: str) -> None:
        """Count a failed login from ``address``."""
        with self._lock:
            now = self._clock()
            if address not in self._failures and len(self._failures) >= self.max_addresses:
                # Forget addresses whose failures have all left the window (memory stays bounded).
                for old in [
                    a for a, t in self._failures.items() if not t or now - t[-1] > self.window_s
                ]:
                    del self._failures[old]
            times = self._recent(address, now)
            times.append(now)
            if len(times) > self.max_failures:
                times.popleft()
