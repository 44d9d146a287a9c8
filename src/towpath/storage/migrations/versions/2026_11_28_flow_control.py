"""Flow control: a run's priority, concurrency key and the reason it waits for its start;
the step queue's claim index ordered by priority, then age.

Revision ID: flow_control_8d1f
Revises: retention_archive_7d1f
Create Date: 2026-11-28 02:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "flow_control_8d1f"
down_revision = "retention_archive_7d1f"
branch_labels = None
depends_on = None

STEP_QUEUE = sa.text("status IN ('queued', 'retrying')")
FLOW_CONTROLLED = sa.text("concurrency_key IS NOT NULL")
QUEUED = sa.text("status = 'pending'")


def upgrade() -> None:
    op.add_column("runs", sa.Column("priority", sa.Integer(), server_default="0", nullable=False))
    op.add_column("runs", sa.Column("concurrency_key", sa.String(length=500), nullable=True))
    op.add_column("runs", sa.Column("queued_for", sa.String(length=20), nullable=True))
    op.add_column(
        "step_runs", sa.Column("priority", sa.Integer(), server_default="0", nullable=False)
    )
    op.create_index(
        "ix_runs_concurrency_slots",
        "runs",
        ["lineage_id", "concurrency_key", "status"],
        postgresql_where=FLOW_CONTROLLED,
        sqlite_where=FLOW_CONTROLLED,
    )
    op.create_index(
        "ix_runs_rate_window",
        "runs",
        ["lineage_id", "started_at"],
        postgresql_where=FLOW_CONTROLLED,
        sqlite_where=FLOW_CONTROLLED,
    )
    op.create_index(
        "ix_runs_queued",
        "runs",
        ["lineage_id", "concurrency_key"],
        postgresql_where=QUEUED,
        sqlite_where=QUEUED,
    )
    op.drop_index("ix_step_runs_workspace_id_available_at", table_name="step_runs")
    op.create_index(
        "ix_step_runs_claim",
        "step_runs",
        ["workspace_id", sa.text("priority DESC"), "available_at"],
        postgresql_where=STEP_QUEUE,
        sqlite_where=STEP_QUEUE,
    )


def downgrade() -> None:
    op.drop_index("ix_step_runs_claim", table_name="step_runs")
    op.create_index(
        "ix_step_runs_workspace_id_available_at",
        "step_runs",
        ["workspace_id", "available_at"],
        postgresql_where=STEP_QUEUE,
        sqlite_where=STEP_QUEUE,
    )
    op.drop_index("ix_runs_queued", table_name="runs")
    op.drop_index("ix_runs_rate_window", table_name="runs")
    op.drop_index("ix_runs_concurrency_slots", table_name="runs")
    op.drop_column("step_runs", "priority")
    op.drop_column("runs", "queued_for")
    op.drop_column("runs", "concurrency_key")
    op.drop_column("runs", "priority")
