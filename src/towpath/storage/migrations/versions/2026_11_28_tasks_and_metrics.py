"""Tasks of the `tasks` seed profile (a workflow lineage with a name, description and round
limit) and the named metrics runs record.

Revision ID: tasks_and_metrics_5e71
Revises: run_projects_5e1b
Create Date: 2026-11-28 06:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "tasks_and_metrics_5e71"
down_revision = "run_projects_5e1b"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)
ID = sa.String(length=36)


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("max_rounds", sa.Integer(), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["id"], ["workflows.id"], name=op.f("fk_tasks_id_workflows"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_tasks_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index(
        op.f("ix_tasks_workspace_id_created_at"), "tasks", ["workspace_id", "created_at"]
    )
    op.create_table(
        "run_metrics",
        sa.Column("id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("lineage_id", ID, nullable=True),
        sa.Column("step_id", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_metrics_run_id_runs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_run_metrics_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_metrics")),
    )
    op.create_index(
        op.f("ix_run_metrics_workspace_id_lineage_id_name"),
        "run_metrics",
        ["workspace_id", "lineage_id", "name"],
    )
    op.create_index(op.f("ix_run_metrics_run_id_name"), "run_metrics", ["run_id", "name"])


def downgrade() -> None:
    op.drop_index(op.f("ix_run_metrics_run_id_name"), table_name="run_metrics")
    op.drop_index(op.f("ix_run_metrics_workspace_id_lineage_id_name"), table_name="run_metrics")
    op.drop_table("run_metrics")
    op.drop_index(op.f("ix_tasks_workspace_id_created_at"), table_name="tasks")
    op.drop_table("tasks")
