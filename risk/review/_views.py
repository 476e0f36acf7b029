"""Who looked at a family card, in which session, at which version: read from the audit log.

A decision is taken by a person who opened the family's card in that session (DESIGN.md §6).
The app's session id is never stored: a view row holds :func:`session_ref`, a hash of it, and
the item's version; :func:`viewed` finds such a row for a decision.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa

from risk.review import _models as m

# Audit rows read per query while looking back for a view (newest first).
_PAGE = 200


def session_ref(session: str) -> str:
    """Return the reference of an app session kept in the audit log (a hash, never the id).

    Examples
    --------
    >>> session_ref("k3j4h5g6") == session_ref("k3j4h5g6") != session_ref("k3j4h5g7")
    True
    >>> len(session_ref("k3j4h5g6"))
    32
    """
    return hashlib.sha256(f"review-app-session:{session}".encode()).hexdigest()[:32]


def view_details(flag_id: int, district: str, version: int, session: str | None) -> dict[str, Any]:
    """Return the details of a ``view_family`` audit row (session and version when in a session).

    Examples
    --------
    >>> view_details(3, "north", 1, None)
    {'flag_id': 3, 'district': 'north'}
    >>> sorted(view_details(3, "north", 1, "s1"))
    ['district', 'flag_id', 'session', 'version']
    """
    details: dict[str, Any] = {"flag_id": int(flag_id), "district": district}
    if session is not None:
        details |= {"version": int(version), "session": session_ref(session)}
    return details


def viewed(
    conn: sa.Connection, user: str, flag_id: int, family_id: str, session: str, version: int
) -> bool:
    """Whether ``user`` opened flag ``flag_id`` at ``version`` in ``session`` (from the log).

    Looks back from the newest ``view_family`` row of the user for the family and stops at
    the first view of an older version of the flag (versions only grow).
    """
    a = m.audit_log.c
    ref = session_ref(session)
    before: int | None = None
    while True:
        q = sa.select(a.seq, a.details_json).where(
            a.actor == user, a.action == "view_family", a.subject == f"family {family_id}"
        )
        if before is not None:
            q = q.where(a.seq < before)
        rows = conn.execute(q.order_by(a.seq.desc()).limit(_PAGE)).all()
        for seq, text in rows:
            before = seq
            details = json.loads(text)
            if details.get("flag_id") != flag_id or "version" not in details:
                continue
            if details["version"] < version:
                return False
            if details["version"] == version and details.get("session") == ref:
                return True
        if len(rows) < _PAGE:
            return False
