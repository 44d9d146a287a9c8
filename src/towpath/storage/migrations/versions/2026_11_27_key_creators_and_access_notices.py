"""Who created each API key; and, on PostgreSQL, every process hears when access ends.

Revision ID: 7c41e2a9d5b3
Revises: 0004
Create Date: 2026-11-27 09:00:00.000000

`api_keys.created_by` names the creator: the admin's subject (`key:<id>`, `user:<sub>`),
or `cli` / `serve` for keys made on the server's machine; keys made before this are NULL.

On PostgreSQL a revoked or deleted API key, and a member removed or given another role,
send `NOTIFY towpath_access` (delivered when the change commits), so every API process
closes the streams that stood on that access and forgets what it cached about it. The
payload: `key <workspace_id> <key_id>` or `member <workspace_id> <member_id> <role or -> <subject>`
(the subject last: it may hold spaces).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "7c41e2a9d5b3"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("created_by", sa.String(length=200), nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION towpath_notify_access() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_TABLE_NAME = 'api_keys' THEN
                PERFORM pg_notify('towpath_access', 'key ' || OLD.workspace_id || ' ' || OLD.id);
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM pg_notify(
                    'towpath_access',
                    'member ' || OLD.workspace_id || ' ' || OLD.id || ' - ' || OLD.subject
                );
            ELSE
                PERFORM pg_notify(
                    'towpath_access',
                    'member ' || NEW.workspace_id || ' ' || NEW.id || ' ' || NEW.role || ' '
                        || NEW.subject
                );
            END IF;
            RETURN NULL;
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER api_keys_revoke_notify AFTER UPDATE OF revoked_at ON api_keys"
        " FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)"
        " EXECUTE FUNCTION towpath_notify_access()"
    )
    op.execute(
        "CREATE TRIGGER api_keys_delete_notify AFTER DELETE ON api_keys"
        " FOR EACH ROW EXECUTE FUNCTION towpath_notify_access()"
    )
    op.execute(
        "CREATE TRIGGER members_role_notify AFTER UPDATE OF role ON members"
        " FOR EACH ROW WHEN (OLD.role IS DISTINCT FROM NEW.role)"
        " EXECUTE FUNCTION towpath_notify_access()"
    )
    op.execute(
        "CREATE TRIGGER members_delete_notify AFTER DELETE ON members"
        " FOR EACH ROW EXECUTE FUNCTION towpath_notify_access()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER members_delete_notify ON members")
        op.execute("DROP TRIGGER members_role_notify ON members")
        op.execute("DROP TRIGGER api_keys_delete_notify ON api_keys")
        op.execute("DROP TRIGGER api_keys_revoke_notify ON api_keys")
        op.execute("DROP FUNCTION towpath_notify_access()")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("created_by")
