"""Indexes the pruner reads old records by: webhook requests, posted events, schedule
ticks by age, and outgoing deliveries by when they finished.

Revision ID: record_pruning_3b9e
Revises: tasks_and_metrics_5e71
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "record_pruning_3b9e"
down_revision = "tasks_and_metrics_5e71"
branch_labels = None
depends_on = None

INDEXES = (
    ("webhook_deliveries", "created_at"),
    ("posted_events", "created_at"),
    ("schedule_fires", "created_at"),
    ("subscription_deliveries", "finished_at"),
)


def upgrade() -> None:
    for table, column in INDEXES:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def downgrade() -> None:
    for table, column in INDEXES:
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
