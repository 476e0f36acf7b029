"""Payloads in their own table, group attributes on the flag row, an index for "my queue".

Listing the queue read every flag row with its ~85 KB payload (SQLite keeps it inline, so even
columns after it cost an overflow-page walk). The payload moves to ``flag_payloads``; the flag
row keeps the group attributes the supervisors' fairness view needs, read from each stored
payload once here; ``ix_flags_queue (status, district, tier, score, flag_id)`` replaces
``ix_flags_status_district``. Existing stores upgrade in place: every payload is kept as stored.

Revision ID: r0002
Revises: r0001
Create Date: 2025-11-22
"""

import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None

_FLAGS = ("single_parent", "large_family", "disabled_child", "low_income")
_BATCH = 500


def upgrade() -> None:
    """Move payloads out of ``flags``, add and fill the group attributes, swap the index."""
    conn = op.get_bind()
    op.create_table(
        "flag_payloads",
        sa.Column(
            "flag_id",
            sa.Integer,
            sa.ForeignKey("flags.flag_id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("payload_json", sa.Text, nullable=False),
    )
    op.execute(
        "INSERT INTO flag_payloads (flag_id, payload_json) SELECT flag_id, payload_json FROM flags"
    )
    op.add_column("flags", sa.Column("settlement", sa.String(64), nullable=True))
    for name in _FLAGS:
        op.add_column("flags", sa.Column(name, sa.Boolean, nullable=True))
    _fill_attributes(conn)
    op.drop_index("ix_flags_status_district", table_name="flags")
    op.create_index("ix_flags_queue", "flags", ["status", "district", "tier", "score", "flag_id"])
    if conn.dialect.name == "sqlite":
        # Native DROP COLUMN (SQLite >= 3.35): a batch copy of ``flags`` would trip the
        # foreign keys of ``decisions`` and ``flag_payloads``.
        op.execute("ALTER TABLE flags DROP COLUMN payload_json")
    else:
        op.drop_column("flags", "payload_json")


def downgrade() -> None:
    """Put payloads back on ``flags`` and drop what r0002 added."""
    conn = op.get_bind()
    op.add_column("flags", sa.Column("payload_json", sa.Text, nullable=False, server_default=""))
    op.execute(
        "UPDATE flags SET payload_json = (SELECT p.payload_json FROM flag_payloads p "
        "WHERE p.flag_id = flags.flag_id)"
    )
    op.drop_index("ix_flags_queue", table_name="flags")
    op.create_index("ix_flags_status_district", "flags", ["status", "district"])
    op.drop_table("flag_payloads")
    for name in ("settlement", *_FLAGS):
        if conn.dialect.name == "sqlite":
            op.execute(f"ALTER TABLE flags DROP COLUMN {name}")
        else:
            op.drop_column("flags", name)


def _fill_attributes(conn: sa.Connection) -> None:
    flags = sa.table(
        "flags",
        sa.column("flag_id", sa.Integer),
        sa.column("settlement", sa.String),
        *(sa.column(n, sa.Boolean) for n in _FLAGS),
    )
    payloads = sa.table(
        "flag_payloads", sa.column("flag_id", sa.Integer), sa.column("payload_json", sa.Text)
    )
    last = -1
    while True:
        rows = conn.execute(
            sa.select(payloads.c.flag_id, payloads.c.payload_json)
            .where(payloads.c.flag_id > last)
            .order_by(payloads.c.flag_id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        updates = [{"fid": int(r.flag_id), **_attributes(json.loads(r.payload_json))} for r in rows]
        conn.execute(
            sa.update(flags)
            .where(flags.c.flag_id == sa.bindparam("fid"))
            .values({n: sa.bindparam(n) for n in ("settlement", *_FLAGS)}),
            updates,
        )
        last = int(rows[-1].flag_id)


# Frozen copy of ``risk.review._screening.group_attributes`` as of this revision, so that the
# migration does what it did whatever that function becomes.
def _attributes(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, Mapping):
        return {"settlement": None, **dict.fromkeys(_FLAGS)}
    sources: list[Mapping[str, Any]] = [
        payload[k] for k in ("composition", "context") if isinstance(payload.get(k), Mapping)
    ]
    contributions = payload.get("contributions")
    if isinstance(contributions, list):
        sources.append(
            {
                c["feature"]: c.get("value")
                for c in contributions
                if isinstance(c, Mapping) and isinstance(c.get("feature"), str)
            }
        )
    settlement = next((s["settlement"] for s in sources if "settlement" in s), None)
    if settlement is None:
        settlement = payload.get("settlement")
    out: dict[str, Any] = {
        "settlement": str(settlement)[:64] if isinstance(settlement, str) and settlement else None
    }
    for name in _FLAGS:
        out[name] = next(
            (b for b in (_flag(s.get(name)) for s in sources if name in s) if b is not None), None
        )
    return out


def _flag(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value == value:
        return bool(value > 0)
    return None
