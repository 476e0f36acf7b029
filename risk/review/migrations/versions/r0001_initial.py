"""Initial review store: runs, flags, decisions, disputed records, users, audit log.

Revision ID: r0001
Revises:
Create Date: 2025-01-01
"""

import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create every table and the audit chain head."""
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(128), primary_key=True),
        sa.Column("model_version", sa.String(128), nullable=False),
        sa.Column("as_of", sa.String(32), nullable=False),
        sa.Column("n_scored", sa.Integer, nullable=False),
        sa.Column("n_flags", sa.Integer, nullable=False),
        sa.Column("tier_counts_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.DateTime, nullable=True),
        sa.CheckConstraint("role IN ('specialist', 'supervisor', 'admin')", name="ck_users_role"),
    )
    op.create_table(
        "user_districts",
        sa.Column("user_name", sa.String(128), sa.ForeignKey("users.name"), primary_key=True),
        sa.Column("district", sa.String(128), primary_key=True),
    )
    op.create_table(
        "flags",
        sa.Column("flag_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(128), sa.ForeignKey("runs.run_id"), nullable=False),
        sa.Column("family_id", sa.String(128), nullable=False),
        sa.Column("district", sa.String(128), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("log_odds", sa.Float, nullable=False),
        sa.Column("tier", sa.String(32), nullable=False),
        sa.Column("rank_in_district", sa.Integer, nullable=False),
        sa.Column("payload_json", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("escalated_at", sa.DateTime, nullable=True),
        sa.Column("decided_at", sa.DateTime, nullable=True),
        sa.UniqueConstraint("run_id", "family_id", name="uq_flags_run_family"),
        sa.CheckConstraint("status IN ('open', 'escalated', 'decided')", name="ck_flags_status"),
    )
    op.create_index("ix_flags_status_district", "flags", ["status", "district"])
    op.create_index("ix_flags_family", "flags", ["family_id"])
    op.create_table(
        "decisions",
        sa.Column("decision_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("flag_id", sa.Integer, sa.ForeignKey("flags.flag_id"), nullable=False),
        sa.Column("user_name", sa.String(128), sa.ForeignKey("users.name"), nullable=False),
        sa.Column("decided_at", sa.DateTime, nullable=False),
        sa.Column("decision", sa.String(32), nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.Column("services_offered_json", sa.Text, nullable=False),
        sa.Column("agrees_with_model", sa.Boolean, nullable=False),
        sa.Column("item_version", sa.Integer, nullable=False),
    )
    op.create_index("ix_decisions_flag", "decisions", ["flag_id"])
    op.create_table(
        "disputed_records",
        sa.Column("dispute_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("family_id", sa.String(128), nullable=False),
        sa.Column("user_name", sa.String(128), sa.ForeignKey("users.name"), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("disputed_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_disputed_family", "disputed_records", ["family_id"])
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("details_json", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])


def downgrade() -> None:
    """Drop every table (the audit log too: only for throw-away stores)."""
    for table in (
        "audit_head",
        "audit_log",
        "disputed_records",
        "decisions",
        "flags",
        "user_districts",
        "users",
        "runs",
    ):
        op.drop_table(table)
