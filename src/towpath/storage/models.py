"""The tables. Every row a user owns carries its workspace id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from towpath.domain.clock import utcnow
from towpath.domain.ids import new_id
from towpath.domain.states import RunStatus, StepStatus
from towpath.storage.types import JSONDoc, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(36)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONDoc}


def _id() -> Mapped[str]:
    return mapped_column(ID, primary_key=True, default=new_id)


def _workspace(*, index: bool = True) -> Mapped[str]:
    return mapped_column(ID, ForeignKey("workspaces.id", ondelete="CASCADE"), index=index)


def _created() -> Mapped[datetime]:
    return mapped_column(default=utcnow)


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = _id()
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = _created()


class Workflow(Base):
    """One version of a workflow; the versions of one workflow share a `lineage_id`."""

    __tablename__ = "workflows"
    __table_args__ = (
        UniqueConstraint("lineage_id", "version"),
        Index(None, "workspace_id", "status", "created_at"),
    )

    id: Mapped[str] = _id()
    workspace_id: Mapped[str] = _workspace()
    lineage_id: Mapped[str] = mapped_column(ID, index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    definition: Mapped[dict[str, Any]]
    input_schema: Mapped[dict[str, Any] | None]
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    # Set on every version of a lineage at once: a paused workflow starts no run.
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Set on one published version: it starts no new run; its runs in flight go on.
    archived_at: Mapped[datetime | None]


# What a run start counts: the runs of a workspace, or of a workflow, still in flight.
IN_FLIGHT = "status IN ('pending', 'running', 'waiting', 'paused')"
# The step rows a transition loads (`engine.rows`): an item that ended is left behind.
LIVE_STEPS = "item_index < 0 OR status NOT IN ('completed', 'failed', 'skipped', 'cancelled')"


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (
        # Not unique: the idempotency_keys table enforces a key once per its 24-hour life,
        # and a key may start a new run after it expired.
        Index(None, "workspace_id", "idempotency_key"),
        Index(None, "status", "deadline_at"),
        Index(
            "ix_runs_in_flight",
            "workspace_id",
            "workflow_id",
            postgresql_where=text(IN_FLIGHT),
            sqlite_where=text(IN_FLIGHT),
        ),
        # The lists: equality filters first, then the sort column and the tiebreak, so a
        # page and its capped count read one range of one index, in order.
        Index(None, "workspace_id", "created_at", "id"),
        Index(None, "workspace_id", "workflow_id", "created_at", "id"),
        Index(None, "workspace_id", "status", "created_at", "id"),
        Index(None, "workspace_id", "workflow_id", "status", "created_at", "id"),
        Index(None, "workspace_id", "status", "id"),
        Index(None, "workspace_id", "completed_at", "id"),
        Index(None, "workspace_id", "lineage_id", "created_at", "id"),
        Index(None, "workspace_id", "project_id", "created_at", "id"),
    )

    id: Mapped[str] = _id()
    # The list indexes above start with it.
    workspace_id: Mapped[str] = _workspace(index=False)
    workflow_id: Mapped[str] = mapped_column(ID, ForeignKey("workflows.id"))
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.PENDING)
    trigger_type: Mapped[str] = mapped_column(String(20), default="manual")
    # The trigger that started the run (a webhook trigger's id), if one did.
    trigger_id: Mapped[str | None] = mapped_column(String(64))
    input: Mapped[dict[str, Any]]
    context: Mapped[dict[str, Any]]
    error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    parent_run_id: Mapped[str | None] = mapped_column(ID, ForeignKey("runs.id"), index=True)
    parent_step_id: Mapped[str | None] = mapped_column(String(128))
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    deadline_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The run its tree started from (itself for a run started by a person or trigger;
    # empty for runs older than the column), and how many levels below it this run is.
    root_run_id: Mapped[str | None] = mapped_column(ID, index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The tick a schedule started the run for, if one did.
    scheduled_at: Mapped[datetime | None]
    # Its workflow's lineage, the same for the runs of every version.
    lineage_id: Mapped[str | None] = mapped_column(ID)
    # Flow control (`engine.admission`): the run's priority, its concurrency key (set
    # only for a workflow with a concurrency or rate limit, "" when unkeyed), and why a
    # pending run waits for its start: "concurrency", "rate_limit" or "workflow_paused".
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    concurrency_key: Mapped[str | None] = mapped_column(String(500))
    queued_for: Mapped[str | None] = mapped_column(String(20))
    # The project the run was started for, if its starter named one.
    project_id: Mapped[str | None] = mapped_column(String(200))


# Only runs of flow-controlled workflows are in these indexes: other runs pay nothing.
FLOW_CONTROLLED = "concurrency_key IS NOT NULL"
QUEUED = "status = 'pending'"
# A key's runs holding a slot; the lineage's recent starts (its rate limit).
Index(
    "ix_runs_concurrency_slots",
    Run.lineage_id,
    Run.concurrency_key,
    Run.status,
    postgresql_where=text(FLOW_CONTROLLED),
    sqlite_where=text(FLOW_CONTROLLED),
)
Index(
    "ix_runs_rate_window",
    Run.lineage_id,
    Run.started_at,
    postgresql_where=text(FLOW_CONTROLLED),
    sqlite_where=text(FLOW_CONTROLLED),
)
# The queued runs: a run is pending only while it waits for its start.
Index(
    "ix_runs_queued",
    Run.lineage_id,
    Run.concurrency_key,
    postgresql_where=text(QUEUED),
    sqlite_where=text(QUEUED),
)


# The queue: step runs waiting for a worker's claim.
STEP_QUEUE = "status IN ('queued', 'retrying')"
# Steps waiting for a person or an event: what the inbox reads.
STEP_WAITING = "status = 'waiting'"


# Newest completion first, unended runs last: PostgreSQL reads that order only from an
# index built in it (SQLite's plain descending order already puts NULL last).
Index(
    "ix_runs_workspace_id_completed_at_desc",
    Run.workspace_id,
    Run.completed_at.desc().nulls_last(),
    Run.id.desc(),
)


class StepRun(Base):
    __tablename__ = "step_runs"
    __table_args__ = (
        UniqueConstraint("run_id", "step_id", "item_index"),
        # Timers and gauges: steps of a status by when they are due.
        Index(None, "status", "available_at"),
        Index(None, "lease_expires_at"),
        # What a transition loads of a run: its steps, and the for_each items still live.
        Index(
            "ix_step_runs_live",
            "run_id",
            postgresql_where=text(LIVE_STEPS),
            sqlite_where=text(LIVE_STEPS),
        ),
        # A run's completed outputs: without it SQLite, which keeps no statistics, would
        # read them through the status index above.
        Index(None, "run_id", "status"),
        # The inbox: a workspace's waiting steps, only those, by when they began to wait.
        Index(
            "ix_step_runs_waiting",
            "workspace_id",
            "started_at",
            postgresql_where=text(STEP_WAITING),
            sqlite_where=text(STEP_WAITING),
        ),
    )

    id: Mapped[str] = _id()
    workspace_id: Mapped[str] = _workspace()
    run_id: Mapped[str] = mapped_column(ID, ForeignKey("runs.id", ondelete="CASCADE"))
    step_id: Mapped[str] = mapped_column(String(128))
    # -1 for the step itself; 0..n-1 for the items of a for_each.
    item_index: Mapped[int] = mapped_column(Integer, default=-1)
    step_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default=StepStatus.PENDING)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    input: Mapped[dict[str, Any] | None]
    # Any JSON value: a step may output a list, a number or null as well as an object.
    output: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    error: Mapped[str | None] = mapped_column(Text)
    # One record per attempt: number, times, outcome, error.
    attempts: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    # The handle a branching step left by.
    handle: Mapped[str | None] = mapped_column(String(64))
    # What the step keeps between executions: a timer's due time, a waiting step's request.
    state: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    available_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_token: Mapped[str | None] = mapped_column(String(36))
    lease_expires_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = _created()
    # Its run's priority, here so the claim reads it from the queue's index.
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


# The claim: each workspace's queue, highest priority then oldest first; only queued
# rows, so it stays as small as the queue however long the history grows.
Index(
    "ix_step_runs_claim",
    StepRun.workspace_id,
    StepRun.priority.desc(),
    StepRun.available_at,
    postgresql_where=text(STEP_QUEUE),
    sqlite_where=text(STEP_QUEUE),
)


class ForEachItem(Base):
    """An item of a for_each not started yet is only its value: its step run is made when
    it starts, so a run's transitions never load the items waiting their turn."""

    __tablename__ = "for_each_items"

    # The for_each's own step run.
    step_run_id: Mapped[str] = mapped_column(
        ID, ForeignKey("step_runs.id", ondelete="CASCADE"), primary_key=True
    )
    item_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = _workspace()
    value: Mapped[Any] = mapped_column(JSONDoc, nullable=True)


class RunEvent(Base):
    __tablename__ = "run_events"
    __table_args__ = (UniqueConstraint("run_id", "seq"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    workspace_id: Mapped[str] = _workspace()
    run_id: Mapped[str] = mapped_column(ID, ForeignKey("runs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(64))
    step_id: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = _created()


class RunLog(Base):
    __tablename__ = "run_logs"
    __table_args__ = (Index(None, "run_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    workspace_id: Mapped[str] = _workspace()
    run_id: Mapped[str] = mapped_column(ID, ForeignKey("runs.id", ondelete="CASCADE"))
    step_id: Mapped[str | None] = mapped_column(String(128))
    level: Mapped[str] = mapped_column(String(10), default="info")
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()


class Agent(Base):
    """A registered agent: an HTTP endpoint `agent` steps call by id or name."""

    __tablename__ = "agents"
    __table_args__ = (
        # A deleted agent's name may be used again: unique among the living only.
        Index(
            None,
            "workspace_id",
            "name",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[str] = _id()
    workspace_id: Mapped[str] = _workspace()
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64), default="http")
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(2048))
    health_url: Mapped[str | None] = mapped_column(String(2048))
    config: Mapped[dict[str, Any]]
    capabilities: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    # Header values may be templates naming `secrets`: rendered per call, never stored rendered.
    headers: Mapped[dict[str, Any]]
    timeout_seconds: Mapped[float] = mapped_column(Float)
    # A retry policy as a step's `retry` is written; steps may override it.
    retry: Mapped[dict[str, Any]]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None]


class Schedule(Base):
    """Runs of a workflow lineage (or one pinned version) at cron or interval times."""

    __tablename__ = "schedules"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name"),
        Index(None, "workspace_id", "created_at", "id"),
        # The scheduler's one question: which schedules are due now.
        Index(None, "paused", "next_due_at"),
    )

    id: Mapped[str] = _id()
    workspace_id: Mapped[str] = _workspace(index=False)
    name: Mapped[str] = mapped_column(String(200))
    workflow_id: Mapped[str] = mapped_column(ID, ForeignKey("workflows.id"))
    # A pinned version runs as it is; without one, the lineage's newest published version.
    version_id: Mapped[str | None] = mapped_column(ID, ForeignKey("workflows.id"))
    # Cron expressions, intervals, time zone, start, end and jitter (triggers.schedule_spec).
    spec: Mapped[dict[str, Any]]
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    input: Mapped[dict[str, Any]]
    overlap: Mapped[str] = mapped_column(String(20), default="skip")
    catchup_window_seconds: Mapped[int] = mapped_column(Integer, default=60)
    pause_on_failure: Mapped[bool] = mapped_column(Boolean, default=False)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    # The next tick not yet taken, and when it is due (its time plus its jitter); None
    # once the schedule has ended.
    next_fire_at: Mapped[datetime | None]
    next_due_at: Mapped[datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ScheduleFire(Base):
    """One tick of a schedule, taken once: the unique key is what makes it exactly once."""

    __tablename__ = "schedule_fires"
    __table_args__ = (
        UniqueConstraint("schedule_id", "scheduled_at"),
        Index(None, "schedule_id", "outcome"),
        Index(None, "in_flight"),
        # The pruner's: ticks past `retention_records_days`, oldest first.
        Index(None, "created_at"),
    )

    id: Mapped[str] = _id()
    workspace_id: Mapped[str] = _workspace()
    schedule_id: Mapped[str] = mapped_column(ID, ForeignKey("schedules.id", ondelete="CASCADE"))
    scheduled_at: Mapped[datetime]
    # `schedule`, `trigger` (fired by hand) or `backfill`.
    source: Mapped[str] = mapped_column(String(20))
    # `started`, `skipped`, `buffered` (waits for the run in flight), `failed` (no run).
    outcome: Mapped[str] = mapped_column(String(20))
    run_id: Mapped[str | None] = mapped_column(ID)
    # The run's end, once it has ended; `in_flight` until then.
    run_status: Mapped[str | None] = mapped_column(String(20))
    in_flight: Mapped[bool] = mapped_column(Boolean, default=False)
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = _id()
    workspace_id: Mapped[str] = _workspace()
    name: Mapped[str] = mapped_column(String(200))
    # The first characters of the key, to find its row without scanning every hash.
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = _created()
    # Who made it: an admin's subject (`key:<id>`, `user:<sub>`), or `cli`/`serve`.
    created_by: Mapped[str | None] = mapped_column(String(200))


class Member(Base):
    """A JWT user's role in a workspace, by the token's subject (`sub`)."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("workspace_id", "subject"),)

    id: Mapped[str] = _id()
    workspace_id: Mapped[str] = _workspace()
    subject: Mapped[str] = mapped_column(String(200), index=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ServerSecret(Base):
    """A secret every process of one server shares (the key that signs stream tokens)."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = _created()


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index(None, "workspace_id", "created_at"),
        # One resource's history.
        Index(None, "workspace_id", "resource_type", "resource_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    workspace_id: Mapped[str] = _workspace()
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(String(128))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    request_id: Mapped[str | None] = mapped_column(String(128))
    client_address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = _created()


class IdempotencyKey(Base):
    """A creating request's key: claimed in flight, then holding the first response."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("workspace_id", "principal", "key"),)

    id: Mapped[str] = _id()
    workspace_id: Mapped[str] = _workspace()
    principal: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    locked_at: Mapped[datetime | None]
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = _created()
    expires_at: Mapped[datetime] = mapped_column(index=True)


class WebhookTrigger(Base):
    """An incoming webhook: deliveries to its unguessable id start runs of one workflow."""

    __tablename__ = "webhook_triggers"
    __table_args__ = (Index(None, "workspace_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = _workspace(index=False)
    name: Mapped[str] = mapped_column(String(200))
    workflow_id: Mapped[str] = mapped_column(ID, ForeignKey("workflows.id"))
    scheme: Mapped[str] = mapped_column(String(32))
    # The generic HMAC scheme's header, encoding and prefix; {} for the others.
    scheme_options: Mapped[dict[str, Any]]
    # Encrypted (`hook_secrets`): an HMAC is checked with the secret itself, not a hash.
    secret: Mapped[str] = mapped_column(String(200))
    # The secret before the last rotation, still accepted until `previous_expires_at`.
    previous_secret: Mapped[str | None] = mapped_column(String(200))
    previous_expires_at: Mapped[datetime | None]
    transform: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created()
    rotated_at: Mapped[datetime | None]
    # False: a delivery runs the lineage's newest published version; True: this version.
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class WebhookDelivery(Base):
    """One request to a webhook trigger: accepted or refused, why, and the run it made."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index(None, "trigger_id", "created_at", "id"),
        # The pruner's: requests past `retention_records_days`, oldest first.
        Index(None, "created_at"),
    )

    id: Mapped[str] = _id()
    workspace_id: Mapped[str] = _workspace()
    trigger_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("webhook_triggers.id", ondelete="CASCADE")
    )
    # The sender's id of the delivery (`webhook-id`, `X-GitHub-Delivery`, …), if any.
    delivery_id: Mapped[str | None] = mapped_column(String(255))
    # "accepted", "replayed" (a repeated delivery id) or "refused".
    outcome: Mapped[str] = mapped_column(String(20))
    # Why it was refused: an error code (`WEBHOOK_REFUSED`, `INPUT_INVALID`…).
    reason: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[datetime] = _created()


class WebhookSubscription(Base):
    """An outgoing webhook: committed run events of the chosen types are delivered to its
    URL, signed the Standard Webhooks way with its secret."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (
        Index(None, "workspace_id", "created_at", "id"),
        # What the `run_events` trigger asks of every event: any enabled subscription here?
        Index(None, "workspace_id", "enabled"),
    )

    id: Mapped[str] = _id()
    workspace_id: Mapped[str] = _workspace(index=False)
    url: Mapped[str] = mapped_column(String(2048))
    # The event types wanted, a JSON list of `EventType` values.
    event_types: Mapped[list[str]] = mapped_column(JSONDoc)
    # Only runs of this workflow lineage (every version of it); None for every workflow.
    workflow_lineage_id: Mapped[str | None] = mapped_column(ID)
    description: Mapped[str] = mapped_column(Text, default="")
    # Encrypted (`hook_secrets`): an HMAC is made with the secret itself, not a hash.
    secret: Mapped[str] = mapped_column(String(200))
    # The secret before the last rotation: deliveries carry its signature too until then.
    previous_secret: Mapped[str | None] = mapped_column(String(200))
    previous_expires_at: Mapped[datetime | None]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[datetime | None]
    # The failing streak, reset by any delivered attempt: since when every attempt failed,
    # how many attempts, and how many deliveries were given up in a row.
    failing_since: Mapped[datetime | None]
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    given_up_in_row: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    rotated_at: Mapped[datetime | None]


# Deliveries still to make: the dispatcher's queue.
DELIVERY_PENDING = "status = 'pending'"


class SubscriptionDelivery(Base):
    """One event to deliver to one subscription: written by a trigger on `run_events` in
    the event's own transaction (the outbox), then sent until delivered or given up."""

    __tablename__ = "subscription_deliveries"
    __table_args__ = (
        # A run's deliveries to a subscription go in seq order: the first pending one is
        # the only one sendable, found through this index.
        UniqueConstraint("subscription_id", "run_id", "seq"),
        Index(None, "subscription_id", "created_at", "id"),
        Index(
            "ix_subscription_deliveries_due",
            "next_attempt_at",
            postgresql_where=text(DELIVERY_PENDING),
            sqlite_where=text(DELIVERY_PENDING),
        ),
        # The pruner's: deliveries finished before the cutoff, oldest first.
        Index(None, "finished_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ID)
    # No foreign key: its check would lock the subscription's row from the engine's
    # transaction, and would fail that transaction if the subscription were deleted
    # meanwhile. A delivery left without its subscription is never sent.
    subscription_id: Mapped[str] = mapped_column(ID)
    # The `run_events` row delivered; its data is read when it is sent.
    event_id: Mapped[int] = mapped_column(BigInteger)
    run_id: Mapped[str] = mapped_column(ID)
    seq: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(64))
    # "pending", "delivered", or "failed" (given up).
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When a pending delivery may be sent next; pushed past a send in flight, so one whose
    # sender died is sent again once that passes.
    next_attempt_at: Mapped[datetime]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    finished_at: Mapped[datetime | None]


class DeliveryAttempt(Base):
    """One try at sending a delivery: what came back, how long it took, or why it failed."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (Index(None, "delivery_id", "attempt"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("subscription_deliveries.id", ondelete="CASCADE"),
    )
    subscription_id: Mapped[str] = mapped_column(ID, index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    # "delivered", "failed" (an answer outside 2xx, a timeout, a broken connection) or
    # "refused" (the egress guard would not let it reach the address: nothing was sent).
    outcome: Mapped[str] = mapped_column(String(20))
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime]


class EventTrigger(Base):
    """A subscription: every event posted under `event_name` (that passes `filter`) starts
    a run of the workflow's lineage, its newest published version unless `pinned`."""

    __tablename__ = "event_triggers"
    __table_args__ = (
        Index(None, "workspace_id", "event_name"),
        Index(None, "workspace_id", "created_at", "id"),
    )

    id: Mapped[str] = _id()
    workspace_id: Mapped[str] = _workspace(index=False)
    name: Mapped[str] = mapped_column(String(200))
    event_name: Mapped[str] = mapped_column(String(200))
    workflow_id: Mapped[str] = mapped_column(ID, ForeignKey("workflows.id"))
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A sandboxed expression over the event; None lets every event through.
    filter: Mapped[str | None] = mapped_column(Text)
    # Templates building the run input from the event; None makes the event's data the input.
    input_template: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created()


class PostedEvent(Base):
    """An event posted with an id, and what its post did: the same id again answers this."""

    __tablename__ = "posted_events"
    __table_args__ = (
        UniqueConstraint("workspace_id", "event_id"),
        # The pruner's: posts past `retention_records_days`, oldest first.
        Index(None, "created_at"),
    )

    id: Mapped[str] = _id()
    workspace_id: Mapped[str] = _workspace(index=False)
    event_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200))
    # The name, key and data hashed: the same id with another event is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    answer: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = _created()


class WorkspaceSecret(Base):
    """A named secret of one workspace; only its ciphertext is kept (Fernet, a key from
    settings or the server's own)."""

    __tablename__ = "workspace_secrets"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[str] = _id()
    workspace_id: Mapped[str] = _workspace(index=False)
    name: Mapped[str] = mapped_column(String(100))
    ciphertext: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created()
    rotated_at: Mapped[datetime | None]


class QueueTask(Base):
    """One attempt of a `task` step, put on a named queue of its workspace for a worker
    outside towpath. The step run stays the source of truth: a task whose step no longer
    waits at this attempt is never leased again."""

    __tablename__ = "queue_tasks"
    __table_args__ = (
        UniqueConstraint("step_run_id", "attempt"),
        # Polls and depth: a queue's open tasks, oldest first.
        Index(None, "workspace_id", "queue", "status", "created_at"),
    )

    id: Mapped[str] = _id()
    workspace_id: Mapped[str] = _workspace(index=False)
    queue: Mapped[str] = mapped_column(String(100))
    run_id: Mapped[str] = mapped_column(ID, ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    step_run_id: Mapped[str] = mapped_column(ID)
    step_id: Mapped[str] = mapped_column(String(128))
    attempt: Mapped[int] = mapped_column(Integer)
    input: Mapped[Any] = mapped_column(JSONDoc, nullable=True)
    idempotency_key: Mapped[str] = mapped_column(String(300))
    # ready, leased, completed, failed
    status: Mapped[str] = mapped_column(String(20), default="ready")
    # How many times it was leased: each lease's token is derived from this number.
    leases: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = _created()
    finished_at: Mapped[datetime | None]


class QueuePoller(Base):
    """When a worker last polled a queue: the queue's live workers."""

    __tablename__ = "queue_pollers"

    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    queue: Mapped[str] = mapped_column(String(100), primary_key=True)
    worker_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_poll_at: Mapped[datetime] = mapped_column(index=True)


class RetentionPolicy(Base):
    """How many days a workspace keeps its finished runs: its own policy (`lineage_id`
    empty) or one workflow lineage's, which wins over the workspace's."""

    __tablename__ = "retention_policies"

    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    lineage_id: Mapped[str] = mapped_column(ID, primary_key=True)
    finished_runs_days: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WorkspaceGroup(Base):
    """A named list of principals of a workspace, that approvals name as `group:<name>`."""

    __tablename__ = "workspace_groups"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[str] = _id()
    workspace_id: Mapped[str] = _workspace(index=False)
    name: Mapped[str] = mapped_column(String(100))
    # `role:<r>`, `key:<id>`, `user:<subject>` or a bare subject.
    members: Mapped[Any] = mapped_column(JSONDoc)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Task(Base):
    """A task of the `tasks` seed profile: a workflow lineage (its runs are the task's runs)
    with the fields the founding document gives a task, which a workflow does not hold."""

    __tablename__ = "tasks"
    __table_args__ = (Index(None, "workspace_id", "created_at"),)

    # The lineage's id (its version 1): a lineage is at most one task.
    id: Mapped[str] = mapped_column(
        ID, ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[str] = _workspace(index=False)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    max_rounds: Mapped[int] = mapped_column(Integer, default=5)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RunMetric(Base):
    """A named number a run recorded: a step's (`metrics` in its output, a `metric` step) or
    the engine's own (a step's duration, an llm step's tokens)."""

    __tablename__ = "run_metrics"
    __table_args__ = (
        Index(None, "workspace_id", "lineage_id", "name"),
        Index(None, "run_id", "name"),
    )

    id: Mapped[str] = _id()
    workspace_id: Mapped[str] = _workspace(index=False)
    run_id: Mapped[str] = mapped_column(ID, ForeignKey("runs.id", ondelete="CASCADE"))
    lineage_id: Mapped[str | None] = mapped_column(ID)
    step_id: Mapped[str | None] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    # `step` (the step said it) or `engine` (towpath measured it).
    source: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = _created()
