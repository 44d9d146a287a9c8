"""PostgreSQL: every committed run event wakes the processes listening for them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:00:00.000000

The payload names the run (`<workspace_id> <run_id>`), not the event: identical payloads
in one transaction are delivered once, so a transition that appends several events costs
listeners one wake-up, and they read the rows after the last seq they have. A NOTIFY is
delivered only when its transaction commits, in commit order. SQLite has one writing
process and needs no cross-process signal.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CHANNEL = "towpath_run_events"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION towpath_notify_run_event() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', NEW.workspace_id || ' ' || NEW.run_id);
            RETURN NULL;
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER run_events_notify AFTER INSERT ON run_events"
        " FOR EACH ROW EXECUTE FUNCTION towpath_notify_run_event()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER run_events_notify ON run_events")
    op.execute("DROP FUNCTION towpath_notify_run_event()")
