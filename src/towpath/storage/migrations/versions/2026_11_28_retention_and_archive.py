"""Retention policies of finished runs, and archived workflow versions.

Revision ID: retention_archive_7d1f
Revises: queue_tasks_5c2e
Create Date: 2026-11-28 02:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "retention_archive_7d1f"
down_revision = "queue_tasks_5c2e"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("workflows", sa.Column("archived_at", MOMENT, nullable=True))
    op.create_table(
        "retention_policies",
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("lineage_id", sa.String(length=36), nullable=False),
        sa.Column("finished_runs_days", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=True),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_retention_policies_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "lineage_id", name=op.f("pk_retention_policies")),
    )


def downgrade() -> None:
    op.drop_table("retention_policies")
    # A plain DROP COLUMN (SQLite 3.35 and later), as the earlier migrations drop theirs.
    op.drop_column("workflows", "archived_at")
