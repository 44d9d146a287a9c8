"""Indexes for reading runs: each filter and sort of `GET /runs` reads one page of an index.

Every list index ends with the list's tiebreak (`id`), so a page is read in order and
stops after it; the list's capped count reads the same index. They replace the
workspace-only index and the workflow index without `id`, which they cover. A run's
completed outputs (`GET /runs/{id}`) get an index of their own: without statistics SQLite
otherwise reads them through the status index, every completed step of every run.

Revision ID: read_indexes_7c3e
Revises: 20261127_bounds
Create Date: 2026-11-27 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "read_indexes_7c3e"
down_revision = "20261127_bounds"
branch_labels = None
depends_on = None

# The plain indexes: equality columns first, then the sort column and the tiebreak.
PLAIN = {
    "ix_runs_workspace_id_created_at_id": ["workspace_id", "created_at", "id"],
    "ix_runs_workspace_id_workflow_id_created_at_id": [
        "workspace_id",
        "workflow_id",
        "created_at",
        "id",
    ],
    "ix_runs_workspace_id_status_created_at_id": ["workspace_id", "status", "created_at", "id"],
    "ix_runs_workspace_id_workflow_id_status_created_at_id": [
        "workspace_id",
        "workflow_id",
        "status",
        "created_at",
        "id",
    ],
    "ix_runs_workspace_id_status_id": ["workspace_id", "status", "id"],
    "ix_runs_workspace_id_completed_at_id": ["workspace_id", "completed_at", "id"],
}
COMPLETED_DESC = "ix_runs_workspace_id_completed_at_desc"
STEP_OUTPUTS = "ix_step_runs_run_id_status"


def upgrade() -> None:
    for name, columns in PLAIN.items():
        op.create_index(name, "runs", columns, unique=False)
    # Newest completion first with unended runs last. PostgreSQL reads that order only
    # from an index built in it; SQLite puts NULL last when descending anyway, and its
    # CREATE INDEX does not accept the words.
    nulls = " NULLS LAST" if op.get_bind().dialect.name == "postgresql" else ""
    op.create_index(
        COMPLETED_DESC,
        "runs",
        ["workspace_id", sa.text(f"completed_at DESC{nulls}"), sa.text("id DESC")],
        unique=False,
    )
    op.drop_index("ix_runs_workspace_id", table_name="runs")
    op.drop_index("ix_runs_workspace_id_workflow_id_created_at", table_name="runs")
    op.create_index(STEP_OUTPUTS, "step_runs", ["run_id", "status"], unique=False)


def downgrade() -> None:
    op.drop_index(STEP_OUTPUTS, table_name="step_runs")
    op.create_index(
        "ix_runs_workspace_id_workflow_id_created_at",
        "runs",
        ["workspace_id", "workflow_id", "created_at"],
        unique=False,
    )
    op.create_index("ix_runs_workspace_id", "runs", ["workspace_id"], unique=False)
    op.drop_index(COMPLETED_DESC, table_name="runs")
    for name in reversed(PLAIN):
        op.drop_index(name, table_name="runs")
