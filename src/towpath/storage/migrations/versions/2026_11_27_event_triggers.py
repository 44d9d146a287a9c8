"""Event triggers, posted events kept by their id, webhook triggers that pin a version,
and the lineage of each run's workflow on the run.

Revision ID: event_triggers_3b7f
Revises: outgoing_webhooks_3b7f
Create Date: 2026-11-27 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "event_triggers_3b7f"
down_revision = "outgoing_webhooks_3b7f"
branch_labels = None
depends_on = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("runs", sa.Column("lineage_id", sa.String(length=36), nullable=True))
    op.execute(
        "UPDATE runs SET lineage_id ="
        " (SELECT workflows.lineage_id FROM workflows WHERE workflows.id = runs.workflow_id)"
    )
    op.create_index(
        op.f("ix_runs_workspace_id_lineage_id_created_at_id"),
        "runs",
        ["workspace_id", "lineage_id", "created_at", "id"],
        unique=False,
    )
    op.add_column(
        "webhook_triggers",
        sa.Column("pinned", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "event_triggers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("event_name", sa.String(length=200), nullable=False),
        sa.Column("workflow_id", sa.String(length=36), nullable=False),
        sa.Column("pinned", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("filter", sa.Text(), nullable=True),
        sa.Column("input_template", JSON_DOC, nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_event_triggers_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"], ["workflows.id"], name=op.f("fk_event_triggers_workflow_id_workflows")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_triggers")),
    )
    op.create_index(
        op.f("ix_event_triggers_workspace_id_event_name"),
        "event_triggers",
        ["workspace_id", "event_name"],
        unique=False,
    )
    op.create_index(
        op.f("ix_event_triggers_workspace_id_created_at_id"),
        "event_triggers",
        ["workspace_id", "created_at", "id"],
        unique=False,
    )
    op.create_table(
        "posted_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("answer", JSON_DOC, nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_posted_events_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posted_events")),
        sa.UniqueConstraint(
            "workspace_id", "event_id", name=op.f("uq_posted_events_workspace_id_event_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("posted_events")
    op.drop_table("event_triggers")
    # A plain DROP COLUMN (SQLite 3.35 and later), as the webhook migration drops its own.
    op.drop_column("webhook_triggers", "pinned")
    op.drop_index(op.f("ix_runs_workspace_id_lineage_id_created_at_id"), table_name="runs")
    op.drop_column("runs", "lineage_id")
