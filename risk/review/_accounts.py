"""Users and logins: adding and administering users, and authenticating with back-off."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, TypeVar

import pandas as pd
import sqlalchemy as sa

from risk.review import _models as m
from risk.review._audit import AuditEntry, append
from risk.review._errors import AuthenticationFailed, InvalidUser, UnknownItem
from risk.review._session import Session, _frame, _utc
from risk.review._users import (
    AddressThrottle,
    LoginPolicy,
    User,
    burn_password_check,
    hash_password,
    login_fields_problem,
    name_fingerprint,
    validate_grant,
    validate_password,
    validate_user,
    verify_password,
)

T = TypeVar("T")


class Accounts:
    """User management and authentication, over the store session the queue's concerns share."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # The session's operations, under the names the methods below use.

    @property
    def login_policy(self) -> LoginPolicy:
        """How repeated failed logins are slowed down (the session's)."""
        return self.session.login_policy

    def _read(self) -> AbstractContextManager[sa.Connection]:
        return self.session.read()

    def _write(self) -> AbstractContextManager[sa.Connection]:
        return self.session.write()

    def _audited(self, body: Callable[[sa.Connection], T]) -> T:
        return self.session.audited(body)

    def _log(self, entry: AuditEntry) -> None:
        self.session.log(entry)

    def _load_user(self, conn: sa.Connection, name: str) -> User | None:
        return self.session.load_user(conn, name)

    def add_user(
        self,
        name: str,
        password: str,
        role: str,
        districts: Iterable[str],
        *,
        actor: str = "admin",
    ) -> User:
        """Add a user; the password is stored only as a scrypt hash.

        Raises
        ------
        InvalidUser
            Bad name, role, districts or password, or the name is taken.
        """
        new = validate_user(name, password, role, districts)
        hashed = hash_password(password)

        def body(conn: sa.Connection) -> User:
            if self._load_user(conn, name) is not None:
                raise InvalidUser(f"user {name!r} already exists", reason="user_exists")
            conn.execute(
                sa.insert(m.users).values(
                    name=name,
                    role=role,
                    password_hash=hashed,
                    created_at=_utc(),
                    failed_logins=0,
                    locked_until=None,
                )
            )
            if new.districts:
                conn.execute(
                    sa.insert(m.user_districts),
                    [{"user_name": name, "district": d} for d in sorted(new.districts)],
                )
            append(
                conn,
                [
                    AuditEntry(
                        actor,
                        "user_added",
                        f"user {name}",
                        {"role": role, "districts": sorted(new.districts)},
                    )
                ],
            )
            return new

        return self._audited(body)

    def get_user(self, name: str) -> User:
        """Return the stored user ``name``.

        Raises
        ------
        UnknownItem
            No such user.
        """
        return self.get_user_and_active(name)[0]

    def get_user_and_active(self, name: str) -> tuple[User, bool]:
        """Return the stored user ``name`` and whether it is active, in one read."""
        with self._read() as conn:
            found = self._load_user(conn, name)
            active = conn.execute(
                sa.select(m.users.c.active).where(m.users.c.name == name)
            ).scalar()
        if found is None:
            raise UnknownItem(f"unknown user {name!r}", reason="no_such_user")
        return found, bool(active)

    def users(self) -> pd.DataFrame:
        """List users (never their password hashes): name, role, districts, lockout, active."""
        u = m.users.c
        with self._read() as conn:
            rows = conn.execute(
                sa.select(
                    u.name, u.role, u.created_at, u.failed_logins, u.locked_until, u.active
                ).order_by(u.name)
            ).all()
            ds = conn.execute(sa.select(m.user_districts)).all()
        by_user: dict[str, list[str]] = {}
        for r in ds:
            by_user.setdefault(r.user_name, []).append(r.district)
        data = [
            (
                r.name,
                r.role,
                sorted(by_user.get(r.name, [])),
                r.created_at,
                r.failed_logins,
                r.locked_until,
                bool(r.active),
            )
            for r in rows
        ]
        return _frame(
            data,
            ("name", "role", "districts", "created_at", "failed_logins", "locked_until", "active"),
            ints=("failed_logins",),
        )

    def authenticate(
        self,
        name: str,
        password: str,
        *,
        now: datetime | None = None,
        client: str | None = None,
        throttle: AddressThrottle | None = None,
    ) -> User:
        """Log ``name`` in; every attempt is audited and failures are slowed down.

        After ``login_policy.free_attempts`` consecutive failures the user is locked out for an
        exponentially growing time, recorded in the store (it survives restarts). Every path
        costs one password hash, so the time taken does not tell whether the name is a user or
        locked out. Fields longer than ``MAX_USER_NAME_LENGTH`` characters (or not printable) or
        ``MAX_PASSWORD_BYTES`` bytes are refused before any query; a name that is not a user is
        audited as a keyed fingerprint, never as typed (it may be a mistyped password).

        Parameters
        ----------
        client : str, optional
            The client's address, recorded in the audit row.
        throttle : AddressThrottle, optional
            Failed logins per ``client``: when it says the address tried too often, the
            attempt is refused (and audited) before any password hash.

        Raises
        ------
        AuthenticationFailed
            No name, unknown user, wrong password, over-long fields, or locked out.
        """
        at = _utc(now)
        seen = {"client": client} if client else {}
        problem = login_fields_problem(name, password)
        if problem is not None and problem != "password too long":
            if client and throttle is not None:
                throttle.failed(client)
            burn_password_check("")
            actor = "anonymous" if problem == "no user" else name_fingerprint(str(name))
            self._log(AuditEntry(actor, "login_failed", "user ?", {"reason": problem, **seen}))
            if problem == "no user":
                raise AuthenticationFailed("login failed: no user name given")
            raise AuthenticationFailed(f"login failed: {problem}")
        with self._read() as conn:
            row = conn.execute(
                sa.select(m.users.c.password_hash, m.users.c.locked_until, m.users.c.active).where(
                    m.users.c.name == name
                )
            ).first()
        if client and throttle is not None and throttle.blocked(client):
            reason = "too many failed logins from this address"
            self._log(
                AuditEntry(
                    name if row is not None else name_fingerprint(name),
                    "login_failed",
                    f"user {name}" if row is not None else "user ?",
                    {"reason": reason, **seen},
                )
            )
            raise AuthenticationFailed(f"login refused: {reason}; try again later")
        try:
            return self._check_password(name, password, row, problem, at, seen)
        except AuthenticationFailed:
            if client and throttle is not None:
                throttle.failed(client)
            raise

    def _check_password(
        self,
        name: str,
        password: str,
        row: Any,
        problem: str | None,
        at: datetime,
        seen: dict[str, str],
    ) -> User:
        refused = AuthenticationFailed(f"login failed for {name!r}: unknown user or wrong password")
        if row is None:
            burn_password_check("" if problem else password)
            self._log(
                AuditEntry(
                    name_fingerprint(name),
                    "login_failed",
                    "user ?",
                    {"reason": problem or "unknown user", **seen},
                )
            )
            raise refused
        if problem is not None:
            burn_password_check("")
            self._log(AuditEntry(name, "login_failed", f"user {name}", {"reason": problem, **seen}))
            raise refused
        if not row.active:
            # Refused like a wrong password, at the same cost: the answer tells nothing more.
            burn_password_check(password)
            self._log(
                AuditEntry(name, "login_failed", f"user {name}", {"reason": "disabled", **seen})
            )
            raise refused
        if row.locked_until is not None and at < row.locked_until:
            # The refusal costs a hash too: a locked-out user must not answer faster.
            burn_password_check(password)
            self._log(
                AuditEntry(name, "login_failed", f"user {name}", {"reason": "locked out", **seen})
            )
            raise AuthenticationFailed(
                f"login refused for {name!r}: too many failed logins; try again after "
                f"{row.locked_until:%Y-%m-%d %H:%M:%S} UTC"
            )
        # The slow hash runs outside any transaction: it must not hold the audit chain.
        ok = verify_password(password, row.password_hash)

        def body(conn: sa.Connection) -> User | None:
            u = m.users.c
            if ok:
                # Failures racing this attempt may have locked the user meanwhile.
                now = conn.execute(sa.select(u.locked_until, u.active).where(u.name == name)).one()
                if not now.active or (now.locked_until is not None and at < now.locked_until):
                    reason = "disabled" if not now.active else "locked out"
                    append(
                        conn,
                        [
                            AuditEntry(
                                name, "login_failed", f"user {name}", {"reason": reason, **seen}
                            )
                        ],
                    )
                    return None
                conn.execute(
                    sa.update(m.users)
                    .where(u.name == name)
                    .values(failed_logins=0, locked_until=None)
                )
                append(conn, [AuditEntry(name, "login", f"user {name}", seen)])
                return self._load_user(conn, name)
            failures = int(
                conn.execute(
                    sa.update(m.users)
                    .where(u.name == name)
                    .values(failed_logins=u.failed_logins + 1)
                    .returning(u.failed_logins)
                ).scalar_one()
            )
            until = self.login_policy.locked_until(failures, at)
            if until is not None:
                conn.execute(sa.update(m.users).where(u.name == name).values(locked_until=until))
            details: dict[str, Any] = {"reason": "wrong password", "failures": failures, **seen}
            if until is not None:
                details["locked_until"] = until.isoformat()
            append(conn, [AuditEntry(name, "login_failed", f"user {name}", details)])
            return None

        with self._write() as conn:
            found = body(conn)
        if found is None:
            raise refused
        return found

    # -- administration -------------------------------------------------------------------

    def is_active(self, name: str) -> bool:
        """Whether ``name`` is a user who may log in (False for unknown and disabled users)."""
        with self._read() as conn:
            active = conn.execute(
                sa.select(m.users.c.active).where(m.users.c.name == name)
            ).scalar()
        return bool(active)

    def _change(
        self,
        name: str,
        action: str,
        actor: str,
        change: Callable[[sa.Connection, Any], dict[str, Any] | None],
    ) -> User:
        """Apply ``change`` to the stored user ``name`` and audit it, in one transaction.

        ``change`` gets the user's row and returns the audit details, or None when there is
        nothing to change (then nothing is written and nothing audited).
        """

        def body(conn: sa.Connection) -> User:
            row = conn.execute(sa.select(m.users).where(m.users.c.name == name)).first()
            if row is None:
                raise UnknownItem(f"unknown user {name!r}", reason="no_such_user")
            details = change(conn, row)
            if details is not None:
                append(conn, [AuditEntry(actor, action, f"user {name}", details)])
            found = self._load_user(conn, name)
            assert found is not None
            return found

        return self._audited(body)

    def _refuse_last_admin(self, conn: sa.Connection, row: Any, doing: str) -> None:
        if row.role != "admin" or not row.active:
            return
        u = m.users.c
        others = conn.execute(
            sa.select(sa.func.count())
            .select_from(m.users)
            .where(u.role == "admin", u.active == sa.true(), u.name != row.name)
        ).scalar_one()
        if not others:
            raise InvalidUser(
                f"cannot {doing} {row.name!r}: the last active admin", reason="last_admin"
            )

    def _set_active(self, name: str, active: bool, actor: str) -> User:
        def change(conn: sa.Connection, row: Any) -> dict[str, Any] | None:
            if bool(row.active) == active:
                return None
            if not active:
                self._refuse_last_admin(conn, row, "disable")
            conn.execute(sa.update(m.users).where(m.users.c.name == name).values(active=active))
            return {}

        return self._change(name, "user_enabled" if active else "user_disabled", actor, change)

    def disable_user(self, name: str, *, actor: str) -> User:
        """Disable ``name``: refused at login like a wrong password; the row and history stay.

        Raises
        ------
        UnknownItem
            No such user.
        InvalidUser
            ``name`` is the last active admin.
        """
        return self._set_active(name, False, actor)

    def enable_user(self, name: str, *, actor: str) -> User:
        """Enable a disabled user again."""
        return self._set_active(name, True, actor)

    def unlock_user(self, name: str, *, actor: str) -> User:
        """Clear ``name``'s failed logins and lockout."""

        def change(conn: sa.Connection, row: Any) -> dict[str, Any]:
            conn.execute(
                sa.update(m.users)
                .where(m.users.c.name == name)
                .values(failed_logins=0, locked_until=None)
            )
            return {"failed_logins": int(row.failed_logins)}

        return self._change(name, "user_unlocked", actor, change)

    def reset_password(self, name: str, password: str, *, actor: str) -> User:
        """Give ``name`` a new password (and clear the lockout); only its hash is stored.

        Raises
        ------
        UnknownItem
            No such user.
        InvalidUser
            The password is too short or too long.
        """
        validate_password(name, password)
        # The slow hash runs before the transaction: it must not hold the audit chain.
        hashed = hash_password(password)

        def change(conn: sa.Connection, row: Any) -> dict[str, Any]:
            conn.execute(
                sa.update(m.users)
                .where(m.users.c.name == name)
                .values(password_hash=hashed, failed_logins=0, locked_until=None)
            )
            return {}

        return self._change(name, "password_reset", actor, change)

    def set_role(self, name: str, role: str, *, actor: str) -> User:
        """Change ``name``'s role (a specialist or supervisor must already have districts).

        Raises
        ------
        UnknownItem
            No such user.
        InvalidUser
            Unknown role, no districts for the role, or demoting the last active admin.
        """

        def change(conn: sa.Connection, row: Any) -> dict[str, Any] | None:
            held = self._load_user(conn, name)
            assert held is not None
            validate_grant(name, role, held.districts)
            if row.role == role:
                return None
            self._refuse_last_admin(conn, row, "change the role of")
            conn.execute(sa.update(m.users).where(m.users.c.name == name).values(role=role))
            return {"from": row.role, "to": role}

        return self._change(name, "user_role_changed", actor, change)

    def set_districts(
        self,
        name: str,
        districts: Iterable[str] | None = None,
        *,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
        actor: str,
    ) -> User:
        """Replace ``name``'s districts with ``districts``, or add and remove some.

        The store does not know the region: callers check the districts against it.

        Raises
        ------
        UnknownItem
            No such user.
        InvalidUser
            A blank district, or a specialist or supervisor left without districts.
        """

        def change(conn: sa.Connection, row: Any) -> dict[str, Any] | None:
            held = self._load_user(conn, name)
            assert held is not None
            base = held.districts if districts is None else frozenset(districts)
            wanted = (base | frozenset(add)) - frozenset(remove)
            new = validate_grant(name, str(row.role), wanted)
            if new == held.districts:
                return None
            ud = m.user_districts
            conn.execute(sa.delete(ud).where(ud.c.user_name == name))
            if new:
                conn.execute(
                    sa.insert(ud), [{"user_name": name, "district": d} for d in sorted(new)]
                )
            return {"from": sorted(held.districts), "to": sorted(new)}

        return self._change(name, "user_districts_changed", actor, change)

    def user_history(self, name: str) -> pd.DataFrame:
        """Return the audit rows by or about ``name``, oldest first (logins, decisions, changes).

        Raises
        ------
        UnknownItem
            No such user.
        """
        a = m.audit_log.c
        with self._read() as conn:
            if self._load_user(conn, name) is None:
                raise UnknownItem(f"unknown user {name!r}", reason="no_such_user")
            rows = conn.execute(
                sa.select(a.seq, a.at, a.actor, a.action, a.subject, a.details_json)
                .where(sa.or_(a.actor == name, a.subject == f"user {name}"))
                .order_by(a.seq)
            ).all()
        data = [
            (r.seq, r.at, r.actor, r.action, r.subject, json.loads(r.details_json)) for r in rows
        ]
        return _frame(data, ("seq", "at", "actor", "action", "subject", "details"), ints=("seq",))
