"""A paused run counts as in flight: the caps on runs in flight hold it.

Revision ID: paused_in_flight_2a4c
Revises: workspace_groups_8d1a
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "paused_in_flight_2a4c"
down_revision = "workspace_groups_8d1a"
branch_labels = None
depends_on = None

IN_FLIGHT = "status IN ('pending', 'running', 'waiting', 'paused')"
BEFORE = "status IN ('pending', 'running', 'waiting')"


def _index(where: str) -> None:
    op.drop_index("ix_runs_in_flight", table_name="runs")
    op.create_index(
        "ix_runs_in_flight",
        "runs",
        ["workspace_id", "workflow_id"],
        unique=False,
        postgresql_where=sa.text(where),
        sqlite_where=sa.text(where),
    )


def upgrade() -> None:
    _index(IN_FLIGHT)


def downgrade() -> None:
    _index(BEFORE)
