"""Bounds one workspace cannot pass: runs know their tree and depth, in-flight runs are
counted by an index, workflows can be paused, and a for_each keeps the items it has not
started apart from its step runs.

Revision ID: 20261127_bounds
Revises: 5b8e0f2c9a71
Create Date: 2026-11-27 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "20261127_bounds"
down_revision = "5b8e0f2c9a71"
branch_labels = None
depends_on = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
IN_FLIGHT = "status IN ('pending', 'running', 'waiting')"
LIVE_STEPS = "item_index < 0 OR status NOT IN ('completed', 'failed', 'skipped', 'cancelled')"


def upgrade() -> None:
    op.add_column(
        "workflows",
        sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("runs", sa.Column("root_run_id", sa.String(length=36), nullable=True))
    op.add_column("runs", sa.Column("depth", sa.Integer(), server_default="0", nullable=False))
    op.create_index(op.f("ix_runs_root_run_id"), "runs", ["root_run_id"], unique=False)
    op.create_index(
        "ix_runs_in_flight",
        "runs",
        ["workspace_id", "workflow_id"],
        unique=False,
        postgresql_where=sa.text(IN_FLIGHT),
        sqlite_where=sa.text(IN_FLIGHT),
    )
    op.create_index(
        "ix_step_runs_live",
        "step_runs",
        ["run_id"],
        unique=False,
        postgresql_where=sa.text(LIVE_STEPS),
        sqlite_where=sa.text(LIVE_STEPS),
    )
    op.create_table(
        "for_each_items",
        sa.Column("step_run_id", sa.String(length=36), nullable=False),
        sa.Column("item_index", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("value", JSON_DOC, nullable=True),
        sa.ForeignKeyConstraint(
            ["step_run_id"],
            ["step_runs.id"],
            name=op.f("fk_for_each_items_step_run_id_step_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_for_each_items_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("step_run_id", "item_index", name=op.f("pk_for_each_items")),
    )
    op.create_index(
        op.f("ix_for_each_items_workspace_id"), "for_each_items", ["workspace_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_for_each_items_workspace_id"), table_name="for_each_items")
    op.drop_table("for_each_items")
    op.drop_index("ix_step_runs_live", table_name="step_runs")
    op.drop_index("ix_runs_in_flight", table_name="runs")
    op.drop_index(op.f("ix_runs_root_run_id"), table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("depth")
        batch.drop_column("root_run_id")
    with op.batch_alter_table("workflows") as batch:
        batch.drop_column("paused")
