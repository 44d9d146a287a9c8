"""Workspace members (a JWT user's role), and an index for one resource's audit history.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_members_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint(
            "workspace_id", "subject", name=op.f("uq_members_workspace_id_subject")
        ),
    )
    op.create_index(op.f("ix_members_workspace_id"), "members", ["workspace_id"], unique=False)
    op.create_index(op.f("ix_members_subject"), "members", ["subject"], unique=False)
    op.create_index(
        op.f("ix_audit_log_workspace_id_resource_type_resource_id"),
        "audit_log",
        ["workspace_id", "resource_type", "resource_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_audit_log_workspace_id_resource_type_resource_id"), table_name="audit_log"
    )
    op.drop_index(op.f("ix_members_subject"), table_name="members")
    op.drop_index(op.f("ix_members_workspace_id"), table_name="members")
    op.drop_table("members")
