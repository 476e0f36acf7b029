"""The human review queue: every flag before a person, every action in a hash-chained log."""

from risk._payload import GROUP_ATTRIBUTES, SCORE_COLUMNS
from risk.review._audit import (
    ACTIONS,
    VerifyResult,
    canonical_json,
    parse_anchor,
    row_hash,
    verify_chain,
)
from risk.review._deciding import DECISION_COLUMNS
from risk.review._decisions import (
    DECISIONS,
    MAX_DISPUTE_REASON_LENGTH,
    MAX_RATIONALE_LENGTH,
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
from risk.review._intake import EnqueueResult
from risk.review._policy import (
    AWAITING,
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
from risk.review._reading import ITEM_COLUMNS, ORDERS, FamilyRecord, ReviewItem
from risk.review._screening import ScreeningLike
from risk.review._supervision import DECIDED_ATTRIBUTE_COLUMNS
from risk.review._users import (
    ROLES,
    SUPERVISOR_ROLES,
    AddressThrottle,
    LoginPolicy,
    Role,
    User,
    can_access,
)

__all__ = [
    "AddressThrottle",
    "MAX_DISPUTE_REASON_LENGTH",
    "MAX_RATIONALE_LENGTH",
    "parse_anchor",
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
    "FamilyRecord",
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
]
