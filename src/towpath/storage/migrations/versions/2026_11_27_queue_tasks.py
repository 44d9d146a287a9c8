"""Queues of `task` steps for workers outside towpath, and the workers that poll them.

Revision ID: queue_tasks_5c2e
Revises: workspace_secrets_3b9f
Create Date: 2026-11-27 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "queue_tasks_5c2e"
down_revision = "workspace_secrets_3b9f"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)
DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "queue_tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("queue", sa.String(length=100), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("step_run_id", sa.String(length=36), nullable=False),
        sa.Column("step_id", sa.String(length=128), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("input", DOC, nullable=True),
        sa.Column("idempotency_key", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("leases", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_expires_at", MOMENT, nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("finished_at", MOMENT, nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_queue_tasks_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_queue_tasks_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_tasks")),
        sa.UniqueConstraint(
            "step_run_id", "attempt", name=op.f("uq_queue_tasks_step_run_id_attempt")
        ),
    )
    op.create_index(
        op.f("ix_queue_tasks_workspace_id_queue_status_created_at"),
        "queue_tasks",
        ["workspace_id", "queue", "status", "created_at"],
    )
    op.create_index(op.f("ix_queue_tasks_run_id"), "queue_tasks", ["run_id"])
    op.create_table(
        "queue_pollers",
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("queue", sa.String(length=100), nullable=False),
        sa.Column("worker_id", sa.String(length=200), nullable=False),
        sa.Column("last_poll_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_queue_pollers_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "queue", "worker_id", name=op.f("pk_queue_pollers")
        ),
    )
    op.create_index(op.f("ix_queue_pollers_last_poll_at"), "queue_pollers", ["last_poll_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_queue_pollers_last_poll_at"), table_name="queue_pollers")
    op.drop_table("queue_pollers")
    op.drop_index(op.f("ix_queue_tasks_run_id"), table_name="queue_tasks")
    op.drop_index(
        op.f("ix_queue_tasks_workspace_id_queue_status_created_at"), table_name="queue_tasks"
    )
    op.drop_table("queue_tasks")
