"""ReviewQueue is a facade: its public methods stay, and each concern is a collaborator."""

from __future__ import annotations

import inspect

from risk.review import ReviewQueue

PUBLIC = {
    "add_user",
    "audit_log",
    "authenticate",
    "close",
    "connect_timeout",
    "count_items",
    "decided_attributes",
    "decisions",
    "dispute",
    "disputed_event_ids",
    "enqueue",
    "escalate_overdue",
    "family_record",
    "get_user",
    "item",
    "items",
    "lock_timeout",
    "log_refusal",
    "login_policy",
    "migrate",
    "record_decision",
    "runs",
    "url",
    "users",
    "verify_audit_log",
}
# Escalation, supervisors' actions, follow-ups and the treatment record.
PUBLIC |= {
    "add_note",
    "assignees",
    "close_follow_up",
    "follow_up_events",
    "follow_ups",
    "notes",
    "reassign",
    "record_contact",
    "record_declined",
    "record_service",
    "sweep",
    "treatment_record",
}


def test_the_public_methods_stay_and_nothing_is_inherited() -> None:
    assert {n for n in vars(ReviewQueue) if not n.startswith("_")} >= PUBLIC
    assert ReviewQueue.__mro__ == (ReviewQueue, object)
    params = inspect.signature(ReviewQueue.items).parameters
    assert list(params)[1:] == [
        "run_id",
        "status",
        "districts",
        "tier",
        "created_before",
        "user",
        "order",
        "limit",
        "offset",
    ]


def test_the_facade_shares_one_session() -> None:
    with ReviewQueue("sqlite://", lock_timeout=7.0) as q:
        sessions = {id(c.session) for c in vars(q).values() if hasattr(c, "session")}
        assert len(sessions) == 1 and q.lock_timeout == 7.0
        assert q.login_policy is q._accounts.login_policy
        assert repr(q) == "ReviewQueue('sqlite://')"
