"""A run may belong to a project its starter names: stored, and listed by it.

Revision ID: run_projects_5e1b
Revises: paused_in_flight_2a4c
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "run_projects_5e1b"
down_revision = "paused_in_flight_2a4c"
branch_labels = None
depends_on = None

INDEX = "ix_runs_workspace_id_project_id_created_at_id"


def upgrade() -> None:
    op.add_column("runs", sa.Column("project_id", sa.String(length=200), nullable=True))
    op.create_index(INDEX, "runs", ["workspace_id", "project_id", "created_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="runs")
    # A plain DROP COLUMN (SQLite 3.35 and later), as the lineage migration drops its own.
    op.drop_column("runs", "project_id")
