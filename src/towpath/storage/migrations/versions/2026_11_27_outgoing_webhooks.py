"""Outgoing webhooks: subscriptions, their outbox of deliveries and the attempts made.

Revision ID: outgoing_webhooks_3b7f
Revises: schedules_8b2f
Create Date: 2026-11-27 19:45:00.000000

A trigger on `run_events` writes a delivery row for each enabled subscription an event
matches, in the transaction that appends the event: every writer of events (the engine's
per-kind writes, PostgreSQL's one-statement CTE, the services) fills the outbox without
knowing of it, and an event that commits has its deliveries committed with it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "outgoing_webhooks_3b7f"
down_revision = "schedules_8b2f"
branch_labels = None
depends_on = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
MOMENT = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PENDING = sa.text("status = 'pending'")

_COLUMNS = (
    "subscription_id, workspace_id, event_id, run_id, seq, event_type, status, attempts,"
    " next_attempt_at, created_at"
)
# The lineage a run's workflow belongs to: a filter names a lineage, so it covers every
# version of the workflow.
_LINEAGE = (
    "(SELECT w.lineage_id FROM runs r JOIN workflows w ON w.id = r.workflow_id"
    " WHERE r.id = {event}.run_id)"
)

# One statement per INSERT into run_events, however many rows it appends; with no
# enabled subscription it stops at one probe of an index.
POSTGRES_FUNCTION = f"""
CREATE FUNCTION towpath_queue_deliveries() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhook_subscriptions WHERE enabled) THEN
        RETURN NULL;
    END IF;
    INSERT INTO subscription_deliveries ({_COLUMNS})
    SELECT s.id, e.workspace_id, e.id, e.run_id, e.seq, e.event_type, 'pending', 0,
           e.created_at, e.created_at
    FROM new_events e
    JOIN webhook_subscriptions s
      ON s.workspace_id = e.workspace_id
     AND s.enabled
     AND s.event_types @> jsonb_build_array(e.event_type)
    WHERE s.workflow_lineage_id IS NULL
       OR s.workflow_lineage_id = {_LINEAGE.format(event="e")};
    RETURN NULL;
END;
$$
"""  # noqa: S608 - constant text, no input
POSTGRES_TRIGGER = (
    "CREATE TRIGGER run_events_outbox AFTER INSERT ON run_events"
    " REFERENCING NEW TABLE AS new_events"
    " FOR EACH STATEMENT EXECUTE FUNCTION towpath_queue_deliveries()"
)
# SQLite has no statement triggers with the new rows: a row trigger whose WHEN asks one
# index whether the event's workspace has an enabled subscription at all.
SQLITE_TRIGGER = f"""
CREATE TRIGGER run_events_outbox AFTER INSERT ON run_events
WHEN EXISTS (
    SELECT 1 FROM webhook_subscriptions
    WHERE workspace_id = NEW.workspace_id AND enabled = 1
)
BEGIN
    INSERT INTO subscription_deliveries ({_COLUMNS})
    SELECT s.id, NEW.workspace_id, NEW.id, NEW.run_id, NEW.seq, NEW.event_type, 'pending',
           0, NEW.created_at, NEW.created_at
    FROM webhook_subscriptions s
    WHERE s.workspace_id = NEW.workspace_id
      AND s.enabled = 1
      AND EXISTS (SELECT 1 FROM json_each(s.event_types) WHERE value = NEW.event_type)
      AND (s.workflow_lineage_id IS NULL
           OR s.workflow_lineage_id = {_LINEAGE.format(event="NEW")});
END
"""  # noqa: S608 - constant text, no input


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("event_types", JSON_DOC, nullable=False),
        sa.Column("workflow_lineage_id", sa.String(length=36), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("previous_secret", sa.String(length=200), nullable=True),
        sa.Column("previous_expires_at", MOMENT, nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("disabled_at", MOMENT, nullable=True),
        sa.Column("failing_since", MOMENT, nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("given_up_in_row", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.Column("rotated_at", MOMENT, nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_webhook_subscriptions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    op.create_index(
        op.f("ix_webhook_subscriptions_workspace_id_created_at_id"),
        "webhook_subscriptions",
        ["workspace_id", "created_at", "id"],
    )
    op.create_index(
        op.f("ix_webhook_subscriptions_workspace_id_enabled"),
        "webhook_subscriptions",
        ["workspace_id", "enabled"],
    )
    op.create_table(
        "subscription_deliveries",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.String(length=36), nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", MOMENT, nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("finished_at", MOMENT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_deliveries")),
        sa.UniqueConstraint(
            "subscription_id",
            "run_id",
            "seq",
            name=op.f("uq_subscription_deliveries_subscription_id_run_id_seq"),
        ),
    )
    op.create_index(
        op.f("ix_subscription_deliveries_subscription_id_created_at_id"),
        "subscription_deliveries",
        ["subscription_id", "created_at", "id"],
    )
    op.create_index(
        "ix_subscription_deliveries_due",
        "subscription_deliveries",
        ["next_attempt_at"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("delivery_id", BIG_ID, nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["subscription_deliveries.id"],
            name=op.f("fk_delivery_attempts_delivery_id_subscription_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
    )
    op.create_index(
        op.f("ix_delivery_attempts_delivery_id_attempt"),
        "delivery_attempts",
        ["delivery_id", "attempt"],
    )
    op.create_index(
        op.f("ix_delivery_attempts_subscription_id"), "delivery_attempts", ["subscription_id"]
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER run_events_outbox ON run_events")
        op.execute("DROP FUNCTION towpath_queue_deliveries()")
    else:
        op.execute("DROP TRIGGER run_events_outbox")
    op.drop_table("delivery_attempts")
    op.drop_table("subscription_deliveries")
    op.drop_table("webhook_subscriptions")
