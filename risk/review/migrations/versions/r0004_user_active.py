"""Users can be disabled: ``users.active``.

A disabled user keeps their row (decisions, notes and the audit log name them) but can no longer
log in. Existing stores upgrade in place; every user already stored stays active.

Revision ID: r0004
Revises: r0003
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "r0004"
down_revision = "r0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``users.active`` (true for every existing user)."""
    op.add_column(
        "users", sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true())
    )


def downgrade() -> None:
    """Drop ``users.active``."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE users DROP COLUMN active")
    else:
        op.drop_column("users", "active")
