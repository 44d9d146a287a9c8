"""Workspace secrets: named values kept encrypted, read by templates and the llm step.

Revision ID: workspace_secrets_3b9f
Revises: agents_registry_a3f9
Create Date: 2026-11-27 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "workspace_secrets_3b9f"
down_revision = "agents_registry_a3f9"
branch_labels = None
depends_on = None

MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "workspace_secrets",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("rotated_at", MOMENT, nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_workspace_secrets_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_secrets")),
        sa.UniqueConstraint(
            "workspace_id", "name", name=op.f("uq_workspace_secrets_workspace_id_name")
        ),
    )


def downgrade() -> None:
    op.drop_table("workspace_secrets")
