"""Schedules: cron and interval specs, overlap and catch-up rules, and the ticks taken
(keyed by schedule and scheduled time, so each is taken once); runs record their tick.

Revision ID: schedules_8b2f
Revises: webhook_triggers_5d1a
Create Date: 2026-11-27 19:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "schedules_8b2f"
down_revision = "webhook_triggers_5d1a"
branch_labels = None
depends_on = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
MOMENT = sa.DateTime(timezone=True)


def _workspace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"],
        ["workspaces.id"],
        name=op.f(f"fk_{table}_workspace_id_workspaces"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.add_column("runs", sa.Column("scheduled_at", MOMENT, nullable=True))
    # Nothing wrote the first shape of the table: it is made again in its new one.
    op.drop_table("schedules")
    op.create_table(
        "schedules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("workflow_id", sa.String(length=36), nullable=False),
        sa.Column("version_id", sa.String(length=36), nullable=True),
        sa.Column("spec", JSON_DOC, nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("input", JSON_DOC, nullable=False),
        sa.Column("overlap", sa.String(length=20), nullable=False),
        sa.Column("catchup_window_seconds", sa.Integer(), nullable=False),
        sa.Column("pause_on_failure", sa.Boolean(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("paused_reason", sa.Text(), nullable=True),
        sa.Column("next_fire_at", MOMENT, nullable=True),
        sa.Column("next_due_at", MOMENT, nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
        _workspace_fk("schedules"),
        sa.ForeignKeyConstraint(
            ["workflow_id"], ["workflows.id"], name=op.f("fk_schedules_workflow_id_workflows")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["workflows.id"], name=op.f("fk_schedules_version_id_workflows")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_schedules_workspace_id_name")),
    )
    op.create_index(
        op.f("ix_schedules_workspace_id_created_at_id"),
        "schedules",
        ["workspace_id", "created_at", "id"],
    )
    op.create_index(op.f("ix_schedules_paused_next_due_at"), "schedules", ["paused", "next_due_at"])
    op.create_table(
        "schedule_fires",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("schedule_id", sa.String(length=36), nullable=False),
        sa.Column("scheduled_at", MOMENT, nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.Column("run_status", sa.String(length=20), nullable=True),
        sa.Column("in_flight", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
        _workspace_fk("schedule_fires"),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_schedule_fires_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_fires")),
        sa.UniqueConstraint(
            "schedule_id", "scheduled_at", name=op.f("uq_schedule_fires_schedule_id_scheduled_at")
        ),
    )
    op.create_index(op.f("ix_schedule_fires_workspace_id"), "schedule_fires", ["workspace_id"])
    op.create_index(
        op.f("ix_schedule_fires_schedule_id_outcome"), "schedule_fires", ["schedule_id", "outcome"]
    )
    op.create_index(op.f("ix_schedule_fires_in_flight"), "schedule_fires", ["in_flight"])


def downgrade() -> None:
    op.drop_table("schedule_fires")
    op.drop_table("schedules")
    op.create_table(
        "schedules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("workflow_id", sa.String(length=36), nullable=False),
        sa.Column("cron", sa.String(length=120), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("input", JSON_DOC, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_run_at", MOMENT, nullable=True),
        sa.Column("last_run_at", MOMENT, nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_id"], ["workflows.id"], name=op.f("fk_schedules_workflow_id_workflows")
        ),
        _workspace_fk("schedules"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
    )
    op.create_index(op.f("ix_schedules_workspace_id"), "schedules", ["workspace_id"])
    op.create_index(
        op.f("ix_schedules_enabled_next_run_at"), "schedules", ["enabled", "next_run_at"]
    )
    op.drop_column("runs", "scheduled_at")
