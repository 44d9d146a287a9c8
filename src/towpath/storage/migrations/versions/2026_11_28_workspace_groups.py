"""Workspace groups that approvals name as `group:<name>`, and the index the inbox reads.

The inbox lists a workspace's waiting steps: a partial index holds only waiting rows, so
it stays as small as what waits however long the history grows.

Revision ID: workspace_groups_8d1a
Revises: flow_control_8d1f
Create Date: 2026-11-28 02:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "workspace_groups_8d1a"
down_revision = "flow_control_8d1f"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)
DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
WAITING = "status = 'waiting'"
WAITING_INDEX = "ix_step_runs_waiting"


def upgrade() -> None:
    op.create_table(
        "workspace_groups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("members", DOC, nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_workspace_groups_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_groups")),
        sa.UniqueConstraint(
            "workspace_id", "name", name=op.f("uq_workspace_groups_workspace_id_name")
        ),
    )
    op.create_index(
        WAITING_INDEX,
        "step_runs",
        ["workspace_id", "started_at"],
        unique=False,
        postgresql_where=sa.text(WAITING),
        sqlite_where=sa.text(WAITING),
    )


def downgrade() -> None:
    op.drop_index(WAITING_INDEX, table_name="step_runs")
    op.drop_table("workspace_groups")
