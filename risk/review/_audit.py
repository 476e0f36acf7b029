"""The append-only, hash-chained audit log: canonical hashing, appending and verification."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from risk.review import _models as m
from risk.review._errors import ReviewError

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
    "reassign",
    "note",
    "followup_open",
    "followup_contact",
    "followup_service",
    "followup_declined",
    "followup_close",
    "followup_escalate",
    "user_disabled",
    "user_enabled",
    "user_unlocked",
    "password_reset",
    "user_role_changed",
    "user_districts_changed",
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


def verify_chain(
    rows: Iterable[Mapping[Any, Any]],
    head: tuple[int, str] | None,
    *,
    anchor: tuple[int, str] | None = None,
) -> VerifyResult:
    """Check the chain: consecutive seqs from 1, each prev_hash and hash, and the head.

    ``details_json`` must be exactly the canonical text of what it parses to (see
    :func:`canonical_json`): the hash covers the parsed value, so this makes it cover the
    stored bytes too (a duplicated key or extra spaces no longer verify).

    Parameters
    ----------
    rows : iterable of mappings
        Audit rows ordered by ``seq`` with the columns of the ``audit_log`` table.
    head : (seq, hash) or None
        The recorded chain head.
    anchor : (seq, hash), optional
        A head exported earlier (``risk audit-log anchor``) and kept outside the database: the
        chain must still reach it with the same hash, so deleting the newest rows and
        rewriting the head to match is caught.

    Examples
    --------
    >>> h1 = row_hash(1, "t", "a", "login", "a", {}, GENESIS_HASH)
    >>> row = dict(seq=1, at="t", actor="a", action="login", subject="a", details_json="{}",
    ...            prev_hash=GENESIS_HASH, hash=h1)
    >>> verify_chain([row], (1, h1)).ok
    True
    >>> print(verify_chain([dict(row, actor="b")], (1, h1)))
    audit log BROKEN at seq 1: hash mismatch (row content was changed)
    >>> print(verify_chain([row], (1, h1), anchor=(2, h1)))
    audit log BROKEN at seq 2: the anchor seq 2 is no longer in the log (it ends at seq 1)
    """
    expected_seq, prev, n = 1, GENESIS_HASH, 0
    anchor_hash: str | None = None
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
        if canonical_json(details) != r["details_json"]:
            return VerifyResult(
                False, n, seq, "details_json is not the exact text that was hashed (it was edited)"
            )
        h = row_hash(seq, r["at"], r["actor"], r["action"], r["subject"], details, r["prev_hash"])
        if h != r["hash"]:
            return VerifyResult(False, n, seq, "hash mismatch (row content was changed)")
        if anchor is not None and seq == anchor[0]:
            anchor_hash = h
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
    if anchor is not None and anchor[0] > 0:
        if anchor_hash is None:
            return VerifyResult(
                False,
                n,
                anchor[0],
                f"the anchor seq {anchor[0]} is no longer in the log (it ends at seq {last})",
            )
        if anchor_hash != anchor[1]:
            return VerifyResult(False, n, anchor[0], "hash mismatch with the anchor")
    return VerifyResult(True, n)


_ANCHOR = re.compile(r"^\s*(\d+):([0-9a-f]{64})\s*$")


def parse_anchor(text: str) -> tuple[int, str]:
    """Read an anchor written as ``SEQ:HASH`` (what ``risk audit-log anchor`` prints).

    Examples
    --------
    >>> parse_anchor("12:" + "ab" * 32)[0]
    12
    >>> parse_anchor("12")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    risk.review._errors.ReviewError: an audit anchor is SEQ:HASH ...; got '12'
    """
    found = _ANCHOR.match(text)
    if found is None:
        raise ReviewError(
            f"an audit anchor is SEQ:HASH (a number, a colon and 64 hex digits); got {text[:80]!r}"
        )
    return int(found.group(1)), found.group(2)


def read_head(conn: sa.Connection) -> tuple[int, str]:
    """Return the recorded chain head ``(seq, hash)`` (``(0, GENESIS_HASH)`` for an empty log)."""
    head = conn.execute(sa.select(m.audit_head.c.seq, m.audit_head.c.hash)).first()
    return (0, GENESIS_HASH) if head is None else (int(head.seq), str(head.hash))


def _decision_fields(
    user: str, flag_id: int, decision: str, services: object, agrees: bool, rationale_sha: str
) -> dict[str, Any]:
    return {
        "user": user,
        "subject": f"flag {flag_id}",
        "decision": decision,
        "services_offered": services,
        "agrees_with_model": bool(agrees),
        "rationale_sha256": rationale_sha,
    }


def check_decisions(
    audited: Mapping[int, Mapping[str, Any]], stored: Iterable[Mapping[Any, Any]], n_rows: int
) -> VerifyResult | None:
    """Cross-check the ``decisions`` table against the log's ``decision`` rows.

    Every stored decision must equal its audit row (user, flag, decision, services, agreement
    and the SHA-256 of the rationale), and every audited decision must still be stored.
    Returns None when they agree.
    """
    seen: set[int] = set()
    for d in stored:
        did = int(d["decision_id"])
        seen.add(did)
        services = json.loads(d["services_offered_json"])
        mine = _decision_fields(
            d["user_name"],
            int(d["flag_id"]),
            d["decision"],
            services,
            d["agrees_with_model"],
            hashlib.sha256(str(d["rationale"]).encode()).hexdigest(),
        )
        logged = audited.get(did)
        if logged is None:
            return VerifyResult(False, n_rows, None, f"decision {did} has no audit row")
        if mine != logged["fields"]:
            changed = sorted(k for k in mine if mine[k] != logged["fields"].get(k))
            return VerifyResult(
                False,
                n_rows,
                int(logged["seq"]),
                f"decision {did} differs from its audit row ({', '.join(changed)})",
            )
    missing = sorted(set(audited) - seen)
    if missing:
        first = audited[missing[0]]
        return VerifyResult(
            False, n_rows, int(first["seq"]), f"decision {missing[0]} was deleted from the store"
        )
    return None


def verify_store(conn: sa.Connection, *, anchor: tuple[int, str] | None = None) -> VerifyResult:
    """Verify the chain, the head, an optional anchor, and the decisions against the log."""
    if conn.dialect.name == "postgresql":
        # One snapshot for the log and the decisions: a decision committed between the two
        # reads would otherwise look unaudited.
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    audited: dict[int, dict[str, Any]] = {}

    def collect(rows: Iterable[Mapping[Any, Any]]) -> Iterator[Mapping[Any, Any]]:
        for r in rows:
            if r["action"] == "decision":
                try:
                    d = json.loads(r["details_json"])
                    audited[int(d["decision_id"])] = {
                        "seq": r["seq"],
                        "fields": _decision_fields(
                            r["actor"],
                            int(str(r["subject"]).removeprefix("flag ")),
                            d["decision"],
                            d["services_offered"],
                            d["agrees_with_model"],
                            d["rationale_sha256"],
                        ),
                    }
                except (ValueError, KeyError, TypeError):
                    pass  # the chain check reports a malformed row
            yield r

    rows = conn.execute(sa.select(m.audit_log).order_by(m.audit_log.c.seq)).mappings()
    result = verify_chain(collect(rows), read_head(conn), anchor=anchor)
    if not result.ok:
        return result
    stored = conn.execute(sa.select(m.decisions).order_by(m.decisions.c.decision_id)).mappings()
    return check_decisions(audited, stored, result.n_rows) or result
