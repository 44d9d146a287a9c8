"""PostgreSQL: every committed run event wakes the processes listening for them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:00:00.000000

The payload names the event: `<workspace_id> <workflow_id> <run_id> <seq>`, so a listener
reads only the runs somebody in its process watches, from the first seq it has not seen
(a run seen for the first time included). A NOTIFY is delivered only when its transaction
commits, in commit order. SQLite has one writing process and needs no cross-process
signal.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The run row is already locked and read by the inserting transaction: looking its
    # workflow up costs an index probe on a cached page.
    op.execute(
        """
        CREATE FUNCTION towpath_notify_run_event() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify(
                'towpath_run_events',
                NEW.workspace_id || ' '
                    || (SELECT workflow_id FROM runs WHERE id = NEW.run_id) || ' '
                    || NEW.run_id || ' ' || NEW.seq
            );
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
