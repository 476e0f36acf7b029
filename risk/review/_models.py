"""The store's tables (SQLAlchemy Core), mirrored by the Alembic migrations.

Timestamps are naive UTC ``DateTime`` values on both backends. Audit timestamps are ISO strings
so that the hash chain covers exactly the text stored.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.String(128), primary_key=True),
    sa.Column("model_version", sa.String(128), nullable=False),
    sa.Column("as_of", sa.String(32), nullable=False),
    sa.Column("n_scored", sa.Integer, nullable=False),
    sa.Column("n_flags", sa.Integer, nullable=False),
    sa.Column("tier_counts_json", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# The queue's rows stay small (no payload), so listing and paging read only these columns.
# Group attributes (settlement, single_parent, ...) are copied from the payload at enqueue time
# for the supervisors' fairness view; None where the payload did not say.
flags = sa.Table(
    "flags",
    metadata,
    sa.Column("flag_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(128), sa.ForeignKey("runs.run_id"), nullable=False),
    sa.Column("family_id", sa.String(128), nullable=False),
    sa.Column("district", sa.String(128), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("log_odds", sa.Float, nullable=False),
    sa.Column("tier", sa.String(32), nullable=False),
    sa.Column("rank_in_district", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("escalated_at", sa.DateTime, nullable=True),
    sa.Column("decided_at", sa.DateTime, nullable=True),
    sa.Column("settlement", sa.String(64), nullable=True),
    sa.Column("single_parent", sa.Boolean, nullable=True),
    sa.Column("large_family", sa.Boolean, nullable=True),
    sa.Column("disabled_child", sa.Boolean, nullable=True),
    sa.Column("low_income", sa.Boolean, nullable=True),
    # The specialist a supervisor handed the item to (r0003); None: anyone of the district.
    sa.Column("assigned_to", sa.String(128), nullable=True),
    sa.UniqueConstraint("run_id", "family_id", name="uq_flags_run_family"),
    sa.CheckConstraint("status IN ('open', 'escalated', 'decided')", name="ck_flags_status"),
    # Serves "my queue": status and district filters, then tier and score order (covering).
    sa.Index("ix_flags_queue", "status", "district", "tier", "score", "flag_id"),
    sa.Index("ix_flags_family", "family_id"),
)

# What the specialist is shown (~85 KB of JSON per flag), read one item at a time.
flag_payloads = sa.Table(
    "flag_payloads",
    metadata,
    sa.Column(
        "flag_id",
        sa.Integer,
        sa.ForeignKey("flags.flag_id"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("payload_json", sa.Text, nullable=False),
)

decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("decision_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("flag_id", sa.Integer, sa.ForeignKey("flags.flag_id"), nullable=False),
    sa.Column("user_name", sa.String(128), sa.ForeignKey("users.name"), nullable=False),
    sa.Column("decided_at", sa.DateTime, nullable=False),
    sa.Column("decision", sa.String(32), nullable=False),
    sa.Column("rationale", sa.Text, nullable=False),
    sa.Column("services_offered_json", sa.Text, nullable=False),
    sa.Column("agrees_with_model", sa.Boolean, nullable=False),
    sa.Column("item_version", sa.Integer, nullable=False),
    sa.Index("ix_decisions_flag", "flag_id"),
)

disputed_records = sa.Table(
    "disputed_records",
    metadata,
    sa.Column("dispute_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(128), nullable=False),
    sa.Column("family_id", sa.String(128), nullable=False),
    sa.Column("user_name", sa.String(128), sa.ForeignKey("users.name"), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("disputed_at", sa.DateTime, nullable=False),
    sa.Index("ix_disputed_family", "family_id"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("failed_logins", sa.Integer, nullable=False),
    sa.Column("locked_until", sa.DateTime, nullable=True),
    # Disabled users keep their rows (decisions and the audit log name them) but cannot log in.
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.CheckConstraint("role IN ('specialist', 'supervisor', 'admin')", name="ck_users_role"),
)

user_districts = sa.Table(
    "user_districts",
    metadata,
    sa.Column("user_name", sa.String(128), sa.ForeignKey("users.name"), primary_key=True),
    sa.Column("district", sa.String(128), primary_key=True),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("subject", sa.String(256), nullable=False),
    sa.Column("details_json", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# One row (id = 1): the chain head. Locking it serialises appends; it also records the last
# seq and hash, so deleting the newest audit rows is detected too.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# Supervisors' notes on queue items (r0003).
flag_notes = sa.Table(
    "flag_notes",
    metadata,
    sa.Column("note_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("flag_id", sa.Integer, sa.ForeignKey("flags.flag_id"), nullable=False),
    sa.Column("user_name", sa.String(128), sa.ForeignKey("users.name"), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Index("ix_flag_notes_flag", "flag_id"),
)

# One follow-up per outreach decision (r0003): what happened after "support offered".
follow_ups = sa.Table(
    "follow_ups",
    metadata,
    sa.Column("followup_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("flag_id", sa.Integer, sa.ForeignKey("flags.flag_id"), nullable=False),
    sa.Column("decision_id", sa.Integer, sa.ForeignKey("decisions.decision_id"), nullable=False),
    sa.Column("family_id", sa.String(128), nullable=False),
    sa.Column("district", sa.String(128), nullable=False),
    sa.Column("opened_at", sa.DateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("escalated_at", sa.DateTime, nullable=True),
    sa.Column("outreach_started_at", sa.DateTime, nullable=True),
    sa.Column("closed_at", sa.DateTime, nullable=True),
    sa.Column("closed_by", sa.String(128), nullable=True),
    sa.Column("outcome", sa.String(32), nullable=True),
    sa.Column("rationale", sa.Text, nullable=True),
    sa.UniqueConstraint("flag_id", name="uq_follow_ups_flag"),
    sa.CheckConstraint("status IN ('open', 'escalated', 'closed')", name="ck_follow_ups_status"),
    sa.Index("ix_follow_ups_status", "status", "district"),
    sa.Index("ix_follow_ups_family", "family_id"),
)

# Every step of a follow-up (r0003): contact attempts, services, the family declining.
follow_up_events = sa.Table(
    "follow_up_events",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("followup_id", sa.Integer, sa.ForeignKey("follow_ups.followup_id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("happened_on", sa.Date, nullable=False),
    sa.Column("recorded_at", sa.DateTime, nullable=False),
    sa.Column("user_name", sa.String(128), sa.ForeignKey("users.name"), nullable=False),
    sa.Column("channel", sa.String(16), nullable=True),
    sa.Column("reached", sa.Boolean, nullable=True),
    sa.Column("service_id", sa.String(128), nullable=True),
    sa.Column("stage", sa.String(16), nullable=True),
    sa.Column("note", sa.Text, nullable=False),
    sa.Index("ix_follow_up_events_followup", "followup_id"),
)
