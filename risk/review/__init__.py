"""The human review queue: every flag before a person, every action in a hash-chained log."""

from risk.review import _audit
from risk.review._audit import ACTIONS, VerifyResult, canonical_json, row_hash, verify_chain
from risk.review._calendar import WorkingCalendar
from risk.review._deciding import DECISION_COLUMNS
from risk.review._decisions import (
    DECISIONS,
    MIN_DISPUTE_REASON_LENGTH,
    MIN_RATIONALE_LENGTH,
    Decision,
    DecisionCode,
)
from risk.review._disputes import exclude_disputed
from risk.review._errors import (
    AccessDenied,
    AuthenticationFailed,
    DecisionConflict,
    InvalidDecision,
    InvalidUser,
    ReviewError,
    StoreUnavailable,
    UnknownItem,
)
from risk.review._followup import (
    CHANNELS,
    FOLLOW_UP_ACTIONS,
    FOLLOW_UP_COLUMNS,
    FOLLOW_UP_EVENT_COLUMNS,
    FOLLOW_UP_STATUSES,
    OPENS_FOLLOW_UP,
    OUTCOMES,
    SERVICE_STAGES,
    TREATMENT_COLUMNS,
    FollowUpStep,
)
from risk.review._intake import EnqueueResult
from risk.review._policy import (
    AWAITING,
    DEFAULT_FIRST_CONTACT_WORKING_DAYS,
    DEFAULT_SLA_WORKING_DAYS,
    OUTREACH,
    QUEUED_TIERS,
    STATUSES,
    TIER_ORDER,
    is_overdue,
    overdue_cutoff,
    past_sla,
    working_days,
)
from risk.review._queue import ReviewQueue, verify_audit_log
from risk.review._reading import ITEM_COLUMNS, ORDERS, ReviewItem
from risk.review._screening import GROUP_ATTRIBUTES, SCORE_COLUMNS, ScreeningLike
from risk.review._supervision import DECIDED_ATTRIBUTE_COLUMNS, Escalated
from risk.review._users import ROLES, SUPERVISOR_ROLES, LoginPolicy, Role, User, can_access

# _followup adds its audit actions to the audit module's list: export the list as it is now.
ACTIONS = _audit.ACTIONS  # noqa: F811

__all__ = [
    "ACTIONS",
    "AWAITING",
    "DECIDED_ATTRIBUTE_COLUMNS",
    "DECISIONS",
    "DECISION_COLUMNS",
    "DEFAULT_SLA_WORKING_DAYS",
    "GROUP_ATTRIBUTES",
    "ITEM_COLUMNS",
    "MIN_DISPUTE_REASON_LENGTH",
    "MIN_RATIONALE_LENGTH",
    "ORDERS",
    "OUTREACH",
    "QUEUED_TIERS",
    "ROLES",
    "SCORE_COLUMNS",
    "STATUSES",
    "SUPERVISOR_ROLES",
    "TIER_ORDER",
    "AccessDenied",
    "AuthenticationFailed",
    "Decision",
    "DecisionCode",
    "DecisionConflict",
    "EnqueueResult",
    "InvalidDecision",
    "InvalidUser",
    "LoginPolicy",
    "ReviewError",
    "ReviewItem",
    "ReviewQueue",
    "Role",
    "ScreeningLike",
    "StoreUnavailable",
    "UnknownItem",
    "User",
    "VerifyResult",
    "can_access",
    "canonical_json",
    "exclude_disputed",
    "is_overdue",
    "overdue_cutoff",
    "past_sla",
    "row_hash",
    "verify_audit_log",
    "verify_chain",
    "working_days",
    "CHANNELS",
    "DEFAULT_FIRST_CONTACT_WORKING_DAYS",
    "FOLLOW_UP_ACTIONS",
    "FOLLOW_UP_COLUMNS",
    "FOLLOW_UP_EVENT_COLUMNS",
    "FOLLOW_UP_STATUSES",
    "OPENS_FOLLOW_UP",
    "OUTCOMES",
    "SERVICE_STAGES",
    "TREATMENT_COLUMNS",
    "Escalated",
    "FollowUpStep",
    "WorkingCalendar",
]
