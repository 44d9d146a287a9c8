"""The queue by workspace: a partial index of queued step runs, so a claim takes from
each workspace in turn at a cost that does not grow with the queue or the history.

Revision ID: 5b8e0f2c9a71
Revises: 7c41e2a9d5b3
Create Date: 2026-11-27 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5b8e0f2c9a71"
down_revision = "7c41e2a9d5b3"
branch_labels = None
depends_on = None

QUEUED = sa.text("status IN ('queued', 'retrying')")


def upgrade() -> None:
    op.create_index(
        op.f("ix_step_runs_workspace_id_available_at"),
        "step_runs",
        ["workspace_id", "available_at"],
        unique=False,
        postgresql_where=QUEUED,
        sqlite_where=QUEUED,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_step_runs_workspace_id_available_at"), table_name="step_runs")
