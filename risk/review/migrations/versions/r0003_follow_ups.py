"""Follow-ups after outreach decisions, supervisors' notes and reassignment.

Adds ``follow_ups`` (one per ``support_offered`` or ``referred`` decision), their steps in
``follow_up_events``, supervisors' ``flag_notes`` and ``flags.assigned_to``. Existing stores
upgrade in place; decisions recorded before this revision get no follow-up (nobody recorded
what happened after them, and inventing an open follow-up would escalate at once).

Revision ID: r0003
Revises: r0002
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the follow-up tables and add ``flags.assigned_to``."""
    op.add_column("flags", sa.Column("assigned_to", sa.String(128), nullable=True))
    op.create_table(
        "flag_notes",
        sa.Column("note_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("flag_id", sa.Integer, sa.ForeignKey("flags.flag_id"), nullable=False),
        sa.Column("user_name", sa.String(128), sa.ForeignKey("users.name"), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("ix_flag_notes_flag", "flag_notes", ["flag_id"])
    op.create_table(
        "follow_ups",
        sa.Column("followup_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("flag_id", sa.Integer, sa.ForeignKey("flags.flag_id"), nullable=False),
        sa.Column(
            "decision_id", sa.Integer, sa.ForeignKey("decisions.decision_id"), nullable=False
        ),
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
        sa.CheckConstraint(
            "status IN ('open', 'escalated', 'closed')", name="ck_follow_ups_status"
        ),
    )
    op.create_index("ix_follow_ups_status", "follow_ups", ["status", "district"])
    op.create_index("ix_follow_ups_family", "follow_ups", ["family_id"])
    op.create_table(
        "follow_up_events",
        sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "followup_id", sa.Integer, sa.ForeignKey("follow_ups.followup_id"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("happened_on", sa.Date, nullable=False),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
        sa.Column("user_name", sa.String(128), sa.ForeignKey("users.name"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("reached", sa.Boolean, nullable=True),
        sa.Column("service_id", sa.String(128), nullable=True),
        sa.Column("stage", sa.String(16), nullable=True),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_index("ix_follow_up_events_followup", "follow_up_events", ["followup_id"])


def downgrade() -> None:
    """Drop what r0003 added."""
    op.drop_table("follow_up_events")
    op.drop_table("follow_ups")
    op.drop_table("flag_notes")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE flags DROP COLUMN assigned_to")
    else:
        op.drop_column("flags", "assigned_to")
