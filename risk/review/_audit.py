"""The append-only, hash-chained audit log: canonical hashing, appending and verification."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from risk.review import _models as m

#: What the audit log records.
ACTIONS: tuple[str, ...] = (
    "enqueue_run",
    "login",
    "login_failed",
    "view_family",
    "decision",
    "dispute",
    "escalate",
    "user_added",
    "access_denied",
    "supervisor_view",
    "family_report",
)

#: ``prev_hash`` of the first row.
GENESIS_HASH = "0" * 64


def canonical_json(value: object) -> str:
    """JSON with sorted keys, no spaces and no ASCII escaping: one text per value.

    Examples
    --------
    >>> canonical_json({"b": 1, "a": [1.5, "ж"]})
    '{"a":[1.5,"ж"],"b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(
    seq: int, at: str, actor: str, action: str, subject: str, details: object, prev_hash: str
) -> str:
    """Hash one audit row (sha256), covering the previous row's hash.

    Examples
    --------
    >>> h = row_hash(1, "2025-01-01T00:00:00+00:00", "anna", "login", "anna", {}, GENESIS_HASH)
    >>> len(h), h == row_hash(1, "2025-01-01T00:00:00+00:00", "anna", "login", "anna", {},
    ...                       GENESIS_HASH)
    (64, True)
    """
    text = canonical_json([seq, at, actor, action, subject, details, prev_hash])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    """One action to record: who did what to what."""

    actor: str
    action: str
    subject: str
    details: Mapping[str, Any]


def append(conn: sa.Connection, entries: Iterable[AuditEntry]) -> int:
    """Append ``entries`` to the chain inside the caller's transaction; return the last seq.

    The caller must already hold the chain-head lock (see ``_store.write_transaction``), so
    that no two transactions extend the chain from the same head.
    """
    head = conn.execute(sa.select(m.audit_head.c.seq, m.audit_head.c.hash)).one()
    seq, prev = int(head.seq), str(head.hash)
    rows = []
    for e in entries:
        if e.action not in ACTIONS:
            raise ValueError(f"audit action must be one of {', '.join(ACTIONS)}; got {e.action!r}")
        seq += 1
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        details_json = canonical_json(dict(e.details))
        details = json.loads(details_json)
        h = row_hash(seq, at, e.actor, e.action, e.subject, details, prev)
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor": e.actor,
                "action": e.action,
                "subject": e.subject,
                "details_json": details_json,
                "prev_hash": prev,
                "hash": h,
            }
        )
        prev = h
    if rows:
        conn.execute(sa.insert(m.audit_log), rows)
        conn.execute(
            sa.update(m.audit_head).where(m.audit_head.c.id == 1).values(seq=seq, hash=prev)
        )
    return seq


@dataclass(frozen=True)
class VerifyResult:
    """What :func:`verify_chain` found.

    Attributes
    ----------
    ok : bool
        True when every row and the chain head check out.
    n_rows : int
        Rows read.
    first_broken_seq : int or None
        The first row (by position in seq order) that does not check out.
    reason : str or None
        Why, e.g. ``"hash mismatch"``, ``"prev_hash mismatch"``, ``"gap in seq: expected 4,
        found 6"``.
    """

    ok: bool
    n_rows: int
    first_broken_seq: int | None = None
    reason: str | None = None

    def __str__(self) -> str:
        if self.ok:
            return f"audit log OK: {self.n_rows} rows, chain intact"
        return f"audit log BROKEN at seq {self.first_broken_seq}: {self.reason}"


def verify_chain(rows: Iterable[Mapping[Any, Any]], head: tuple[int, str] | None) -> VerifyResult:
    """Check the chain: consecutive seqs from 1, each prev_hash and hash, and the head.

    Parameters
    ----------
    rows : iterable of mappings
        Audit rows ordered by ``seq`` with the columns of the ``audit_log`` table.
    head : (seq, hash) or None
        The recorded chain head.

    Examples
    --------
    >>> h1 = row_hash(1, "t", "a", "login", "a", {}, GENESIS_HASH)
    >>> row = dict(seq=1, at="t", actor="a", action="login", subject="a", details_json="{}",
    ...            prev_hash=GENESIS_HASH, hash=h1)
    >>> verify_chain([row], (1, h1)).ok
    True
    >>> print(verify_chain([dict(row, actor="b")], (1, h1)))
    audit log BROKEN at seq 1: hash mismatch (row content was changed)
    """
    expected_seq, prev, n = 1, GENESIS_HASH, 0
    for r in rows:
        n += 1
        seq = int(r["seq"])
        if seq != expected_seq:
            return VerifyResult(False, n, seq, f"gap in seq: expected {expected_seq}, found {seq}")
        if r["prev_hash"] != prev:
            return VerifyResult(
                False, n, seq, "prev_hash mismatch (a row before it was removed or reordered)"
            )
        try:
            details = json.loads(r["details_json"])
        except ValueError:
            return VerifyResult(False, n, seq, "details_json is not valid JSON")
        h = row_hash(seq, r["at"], r["actor"], r["action"], r["subject"], details, r["prev_hash"])
        if h != r["hash"]:
            return VerifyResult(False, n, seq, "hash mismatch (row content was changed)")
        prev, expected_seq = h, seq + 1
    head_seq, head_hash = head if head is not None else (0, GENESIS_HASH)
    last = expected_seq - 1
    if head_seq != last:
        if head_seq > last:
            reason = (
                f"rows {last + 1}..{head_seq} are missing (the chain head records seq {head_seq})"
            )
        else:
            reason = f"the chain head records seq {head_seq}, but the log goes on to {last}"
        return VerifyResult(False, n, last + 1 if head_seq > last else head_seq + 1, reason)
    if head_hash != prev:
        return VerifyResult(False, n, last, "hash mismatch with the recorded chain head")
    return VerifyResult(True, n)
