"""The API's request and response bodies.

Generated from the server's OpenAPI document by towpath.client.generate: do not edit."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """A body of the API; fields a newer server adds are kept, not refused."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class AcceptancePending(Model):
    step_id: str
    message: str | None
    requested_at: datetime | None
    deadline: datetime | None
    request: dict[str, Any]


class AcceptanceRequest(Model):
    accepted: bool
    comment: str | None = None


class AgentCreate(Model):
    name: str
    url: str
    kind: str = "http"
    description: str = ""
    health_url: str | None = None
    config: dict[str, JsonValue] | None = None
    capabilities: list[str] | None = None
    headers: dict[str, Any] | None = None
    timeout_seconds: float = 30.0
    retry: RetryPolicy | None = None
    enabled: bool = True


class AgentHealthResponse(Model):
    status: str
    status_code: int | None
    latency_ms: float
    checked_at: datetime
    url: str
    error: str | None
    agent_id: str
    recent: list[HealthCheckResponse]


class AgentPatch(Model):
    """What PATCH changes: only the fields given."""

    name: str | None = None
    url: str | None = None
    kind: str | None = None
    description: str | None = None
    health_url: str | None = None
    config: dict[str, JsonValue] | None = None
    capabilities: list[str] | None = None
    headers: dict[str, Any] | None = None
    timeout_seconds: float | None = None
    retry: RetryPolicy | None = None
    enabled: bool | None = None


class AgentResponse(Model):
    id: str
    name: str
    kind: str
    description: str
    url: str
    health_url: str | None
    config: dict[str, Any]
    capabilities: list[str]
    headers: dict[str, Any]
    timeout_seconds: float
    retry: dict[str, Any]
    enabled: bool
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    last_health: HealthCheckResponse | None = None


class ApiKeyCreate(Model):
    name: str
    role: Literal["viewer", "operator", "editor", "admin"]
    expires_at: datetime | None = None


class ApiKeyCreated(Model):
    id: str
    name: str
    prefix: str
    role: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime
    created_by: str | None
    key: str


class ApiKeyResponse(Model):
    id: str
    name: str
    prefix: str
    role: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime
    created_by: str | None


class ApprovalNeeds(Model):
    """What an approval asks, and by which rules: POST /runs/{run_id}/approve answers it."""

    message: str
    approvers: list[str]
    groups: dict[str, list[str]]
    quorum: int
    rule: str
    votes: list[Vote]
    escalated: bool


class ApproveInput(Model):
    step_id: str | None = None
    approved: bool
    comment: str | None = None


class AttemptResponse(Model):
    attempt: int
    outcome: str
    status_code: int | None
    latency_ms: int | None
    error: str | None
    started_at: datetime


class AuditEntryResponse(Model):
    id: int
    actor: str
    action: str
    resource_type: str
    resource_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    client_address: str | None
    created_at: datetime


class BackfillInput(Model):
    overlap: Overlap | None = None
    start: datetime
    end: datetime


class BackfillResponse(Model):
    fires: list[FireResponse]
    already_taken: int


class CallbackAnswer(Model):
    run_id: str
    step_id: str
    run_status: str
    step_status: str
    deadline: datetime | None = None


class CallbackComplete(Model):
    token: str
    output: JsonValue | None = None


class CallbackFail(Model):
    token: str
    error: str


class CallbackHeartbeat(Model):
    token: str
    extend_seconds: int = 3600


class CallerKey(Model):
    id: str
    name: str
    prefix: str


class CallerResponse(Model):
    workspace: CallerWorkspace
    role: Literal["viewer", "operator", "editor", "admin"]
    authenticated_by: Literal["api_key", "jwt"]
    api_key: CallerKey | None
    subject: str | None
    expires_at: datetime | None


class CallerWorkspace(Model):
    id: str
    slug: str
    name: str


class CancelInput(Model):
    reason: str | None = None


class CancelledRun(Model):
    id: str
    workflow_id: str
    parent_run_id: str | None
    depth: int


class ClarificationNeeds(Model):
    """The questions to answer through POST /runs/{run_id}/clarify."""

    questions: list[dict[str, Any]]


class ClarificationPending(Model):
    step_id: str
    questions: list[dict[str, Any]]
    requested_at: datetime | None
    deadline: datetime | None


class ClarificationRequest(Model):
    answers: dict[str, str]


class ClarifyInput(Model):
    step_id: str | None = None
    answers: dict[str, Any]


class CompleteRequest(Model):
    lease_token: str
    output: JsonValue | None = None


class Deleted(Model):
    """What a delete answers (200): the document names 201 and 404, and no empty answer."""

    id: str
    deleted: bool = True


class DeliveryResponse(Model):
    id: int
    message_id: str
    event_type: str
    run_id: str
    seq: int
    status: str
    attempt_count: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    attempts: list[AttemptResponse]


class DetailedError(Model):
    """FastAPI's `{"detail": ...}` with towpath's error envelope."""

    error_code: str
    message: str
    details: dict[str, Any]
    request_id: str
    detail: str | list[dict[str, Any]] = ""


class Durations(Model):
    count: int
    min: float | None
    avg: float | None
    p95: float | None
    max: float | None


class Edge(Model):
    id: str
    source: str
    target: str
    sourceHandle: str | None = None


Encoding = Literal["hex", "base64"]


class ErrorResponse(Model):
    error_code: str
    message: str
    details: dict[str, Any]
    request_id: str


class EventDelivery(Model):
    id: str | None = None
    run_ids: list[str]
    started: list[StartedRun] | None = None
    refused: list[RefusedStart] | None = None


class EventInput(Model):
    name: str
    key: str | None = None
    data: dict[str, Any] | None = None
    id: str | None = None


class EventTriggerCreate(Model):
    name: str
    event_name: str
    workflow_id: str
    pinned: bool = False
    filter: str | None = None
    input_template: dict[str, Any] | None = None


class EventTriggerResponse(Model):
    id: str
    name: str
    event_name: str
    workflow_id: str
    pinned: bool
    filter: str | None
    input_template: dict[str, Any] | None
    created_by: str | None
    created_at: datetime


EventType = Literal[
    "run.created",
    "run.started",
    "run.waiting",
    "run.resumed",
    "run.retried",
    "run.completed",
    "run.failed",
    "run.cancelled",
    "run.event",
    "run.queued",
    "run.paused",
    "run.unpaused",
    "step.pending",
    "step.queued",
    "step.started",
    "step.waiting",
    "step.delayed",
    "step.resumed",
    "step.retrying",
    "step.completed",
    "step.failed",
    "step.skipped",
    "step.cancelled",
    "step.attempt_lost",
    "step.log",
    "step.held",
]


class ExecuteInput(Model):
    input_data: dict[str, Any] | None = None
    idempotency_key: str | None = None


class ExecutionResponse(Model):
    execution_id: str
    workflow_id: str
    project_id: str
    status: Literal[
        "pending",
        "running",
        "waiting_acceptance",
        "waiting_clarification",
        "waiting",
        "paused",
        "completed",
        "failed",
        "cancelled",
    ]
    current_step_id: str | None
    completed_steps: list[str]
    pending_acceptance: AcceptancePending | None
    pending_clarification: ClarificationPending | None
    started_at: datetime | None
    completed_at: datetime | None
    error: str | None


class FailRequest(Model):
    lease_token: str
    error: str
    retryable: bool = True


class FireInput(Model):
    overlap: Overlap | None = None


class FireResponse(Model):
    id: str
    scheduled_at: datetime
    source: str
    outcome: str
    run_id: str | None
    run_status: str | None
    detail: str | None


class FrontRun(Model):
    id: str
    workflow_id: str
    status: Literal["pending", "running", "paused", "completed", "failed", "cancelled"]
    trigger_type: str
    input: dict[str, Any]
    context: dict[str, Any]
    error: str | None
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime


class GroupCreate(Model):
    name: str
    members: list[str]


class GroupResponse(Model):
    id: str
    name: str
    members: list[str]
    created_at: datetime
    updated_at: datetime


class GroupUpdate(Model):
    members: list[str]


class HealthCheckResponse(Model):
    status: str
    status_code: int | None
    latency_ms: float
    checked_at: datetime
    url: str
    error: str | None


class HeartbeatRequest(Model):
    lease_token: str
    extend_seconds: int = 60


class HeartbeatResponse(Model):
    task_id: str
    status: str
    lease_expires_at: datetime | None


class HmacOptions(Model):
    header: str = "X-Signature"
    encoding: Encoding = "hex"
    prefix: str = ""


class InboxCount(Model):
    count: int


class InboxItemResponse(Model):
    run_id: str
    workflow_id: str
    workflow_name: str
    step_id: str
    type: Literal["approval", "clarification"]
    waiting_since: datetime | None
    deadline_at: datetime | None
    approval: ApprovalNeeds | None = None
    clarification: ClarificationNeeds | None = None


class IntervalInput(Model):
    every_seconds: int
    offset_seconds: int = 0


JsonValue = Any


class LeasedTask(Model):
    task_id: str
    queue: str
    run_id: str
    step_id: str
    attempt: int
    input: JsonValue
    idempotency_key: str
    lease_token: str
    lease_expires_at: datetime


class MemberCreate(Model):
    subject: str
    role: Literal["viewer", "operator", "editor", "admin"]


class MemberResponse(Model):
    id: str
    subject: str
    role: str
    created_at: datetime
    updated_at: datetime


class MemberUpdate(Model):
    role: Literal["viewer", "operator", "editor", "admin"]


class Node(Model):
    id: str
    type: str
    position: Position | None = None
    data: NodeData | None = None


class NodeData(Model):
    label: str = ""
    config: dict[str, Any] | None = None


Overlap = Literal["skip", "buffer_one", "buffer_all", "cancel_other", "allow_all"]


class PauseInput(Model):
    reason: str | None = None


class PollRequest(Model):
    worker_id: str
    max_tasks: int = 1
    wait_seconds: float = 20
    lease_seconds: int = 60


class PollResponse(Model):
    tasks: list[LeasedTask]


class Position(Model):
    x: float = 0
    y: float = 0


class QueueResponse(Model):
    name: str
    ready: int
    leased: int
    oldest_ready_age_seconds: float | None
    workers: int
    last_poll_at: datetime | None


class RecordedMetric(Model):
    id: str
    name: str
    value: float
    task_id: str | None
    run_id: str
    step_id: str | None
    source: str
    timestamp: datetime


class RecordedMetricList(Model):
    items: list[RecordedMetric]
    total: int
    skip: int
    limit: int


class RecordedMetricSummary(Model):
    name: str
    count: int
    min: float
    max: float
    avg: float
    last: float


class RecordedMetricsSummary(Model):
    task_id: str | None = None
    run_id: str | None = None
    metrics: list[RecordedMetricSummary]


class RefusedStart(Model):
    trigger_id: str
    error_code: str
    message: str


class ResumeInput(Model):
    step_id: str | None = None
    data: dict[str, Any] | None = None


class RetentionInput(Model):
    finished_runs_days: int | None


class RetentionPolicyResponse(Model):
    scope: Literal["workspace", "workflow"]
    finished_runs_days: int | None
    workflow_id: str | None = None
    name: str | None = None


class RetryInput(Model):
    from_step: str | None = None
    input_overrides: RetryOverrides | None = None
    to_latest: bool = False


class RetryOverrides(Model):
    input: dict[str, Any] | None = None
    steps: dict[str, dict[str, Any]] | None = None


class RetryPlanResponse(Model):
    """What a retry would do (`?dry_run=true`); nothing was changed."""

    run_id: str
    status: Literal["pending", "running", "waiting", "completed", "failed", "cancelled", "paused"]
    workflow_id: str
    target_workflow_id: str
    from_step: str | None
    run_again: list[str]
    keep: list[str]
    dropped: list[str]
    input_overrides: dict[str, Any]


class RetryPolicy(Model):
    """How often, and how far apart, a failed attempt is tried again."""

    max_attempts: int = 1
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 300.0
    retry_on: list[Literal["timeout", "5xx", "network", "error"]] | None = None


class RotateSecretInput(Model):
    overlap_seconds: int = 86400


class RunEventResponse(Model):
    seq: int
    event_type: str
    step_id: str | None
    data: dict[str, Any]
    timestamp: datetime


class RunInput(Model):
    input: dict[str, Any] | None = None
    idempotency_key: str | None = None
    project_id: str | None = None


class RunLogResponse(Model):
    id: int
    step_id: str | None
    level: str
    message: str
    timestamp: datetime


class RunMetricsResponse(Model):
    run_id: str
    status: Literal["pending", "running", "waiting", "completed", "failed", "cancelled", "paused"]
    duration_seconds: float | None
    steps_total: int
    attempts_total: int
    tokens: Tokens
    steps: list[StepMetrics]


class RunProgress(Model):
    done: int
    total: int
    fraction: float


class RunResponse(Model):
    id: str
    workflow_id: str
    status: Literal["pending", "running", "waiting", "completed", "failed", "cancelled", "paused"]
    trigger_type: str
    input: dict[str, Any]
    context: dict[str, Any]
    error: str | None
    idempotency_key: str | None
    parent_run_id: str | None
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    root_run_id: str | None = None
    depth: int = 0
    trigger_id: str | None = None
    scheduled_at: datetime | None = None
    triggered_by: str | None = None
    lineage_id: str | None = None
    steps_running: list[RunningStep] | None = None
    steps_waiting: list[WaitingStep] | None = None
    step_counts: StepCounts | None = None
    progress: RunProgress | None = None
    priority: int = 0
    waiting_for: dict[str, Any] | None = None
    project_id: str | None = None


class RunSummary(Model):
    id: str
    workflow_id: str
    status: Literal["pending", "running", "waiting", "completed", "failed", "cancelled", "paused"]
    trigger_type: str
    error: str | None
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    trigger_id: str | None = None
    triggered_by: str | None = None
    lineage_id: str | None = None
    priority: int = 0
    waiting_for: dict[str, Any] | None = None
    project_id: str | None = None


class RunTreeCancelResponse(Model):
    run: RunResponse
    cancelled: list[CancelledRun]


class RunningStep(Model):
    step_id: str
    step_type: str
    attempt: int
    since: datetime | None


class ScheduleCreate(Model):
    name: str
    workflow_id: str
    version_id: str | None = None
    spec: ScheduleSpecInput
    input: dict[str, Any] | None = None
    overlap: Overlap = "skip"
    catchup_window_seconds: int = 60
    pause_on_failure: bool = False


class ScheduleDetail(Model):
    id: str
    name: str
    workflow_id: str
    version_id: str | None
    spec: dict[str, Any]
    timezone: str
    input: dict[str, Any]
    overlap: Overlap
    catchup_window_seconds: int
    pause_on_failure: bool
    paused: bool
    paused_reason: str | None
    next_fire_at: datetime | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    upcoming: list[datetime]
    recent: list[FireResponse]


class ScheduleResponse(Model):
    id: str
    name: str
    workflow_id: str
    version_id: str | None
    spec: dict[str, Any]
    timezone: str
    input: dict[str, Any]
    overlap: Overlap
    catchup_window_seconds: int
    pause_on_failure: bool
    paused: bool
    paused_reason: str | None
    next_fire_at: datetime | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class ScheduleSpecInput(Model):
    cron: list[str] | None = None
    intervals: list[IntervalInput] | None = None
    timezone: str = "UTC"
    start_at: datetime | None = None
    end_at: datetime | None = None
    jitter_seconds: int = 0


Scheme = Literal["standard_webhooks", "github", "stripe", "hmac", "bearer"]


class SecretCreate(Model):
    name: str
    value: str
    description: str | None = None


class SecretResponse(Model):
    """A secret's name and metadata; its value is never returned."""

    name: str
    description: str | None
    created_by: str | None
    created_at: datetime
    rotated_at: datetime | None


class SecretRotate(Model):
    value: str


class StartWorkflowRequest(Model):
    project_id: str
    initial_context: dict[str, Any] | None = None


class StartedRun(Model):
    trigger_id: str
    run_id: str
    workflow_id: str


class StepCatalogEntry(Model):
    type: str
    label: str
    description: str
    icon: str
    category: Literal["integrations", "ai", "logic", "data", "flow"]
    config_schema: dict[str, Any]


class StepCounts(Model):
    """Steps of the run (not items of a for_each) in each status."""

    pending: int = 0
    queued: int = 0
    running: int = 0
    waiting: int = 0
    retrying: int = 0
    completed: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0
    held: int = 0


class StepMetrics(Model):
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None
    step_id: str
    item_index: int | None
    step_type: str
    status: Literal[
        "pending",
        "queued",
        "running",
        "waiting",
        "retrying",
        "completed",
        "failed",
        "skipped",
        "cancelled",
        "held",
    ]
    attempts: int
    queued_seconds: float | None
    duration_seconds: float | None


class StepRunResponse(Model):
    id: str
    step_id: str
    step_type: str
    item_index: int | None
    status: Literal[
        "pending",
        "queued",
        "running",
        "waiting",
        "retrying",
        "completed",
        "failed",
        "skipped",
        "cancelled",
        "held",
    ]
    attempt: int
    attempts: list[dict[str, Any]]
    input: Any
    output: Any
    error: str | None
    handle: str | None
    request: dict[str, Any] | None
    started_at: datetime | None
    completed_at: datetime | None


class StreamTokenResponse(Model):
    token: str
    expires_at: datetime


class SubscriptionCreate(Model):
    url: str
    event_types: list[EventType]
    workflow_id: str | None = None
    description: str = ""


class SubscriptionCreated(Model):
    id: str
    url: str
    event_types: list[str]
    workflow_id: str | None
    description: str
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None
    failed_attempts: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    rotated_at: datetime | None
    previous_expires_at: datetime | None
    secret: str


class SubscriptionResponse(Model):
    id: str
    url: str
    event_types: list[str]
    workflow_id: str | None
    description: str
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None
    failed_attempts: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    rotated_at: datetime | None
    previous_expires_at: datetime | None


class SubscriptionUpdate(Model):
    """Only the fields given change; `workflow_id: null` widens it to every workflow."""

    url: str | None = None
    event_types: list[EventType] | None = None
    workflow_id: str | None = None
    description: str | None = None
    enabled: bool | None = None


class TaskAnswerResponse(Model):
    task_id: str
    status: str
    run_id: str
    step_id: str
    run_status: str
    step_status: str


class TaskCreate(Model):
    name: str
    description: str = ""
    max_rounds: int = 5
    workflow_id: str | None = None


class TaskListResponse(Model):
    items: list[TaskResponse]
    total: int
    skip: int
    limit: int


class TaskResponse(Model):
    id: str
    name: str
    description: str
    max_rounds: int
    status: Literal["pending", "running", "completed", "failed", "cancelled", "timeout"]
    workflow_id: str
    total_runs: int
    successful_runs: int
    failed_runs: int
    success_rate: float
    created_at: datetime
    updated_at: datetime


class TaskRunApproval(Model):
    approved: bool
    feedback: str | None = None


class TaskRunCreate(Model):
    task_id: str


class TaskRunList(Model):
    items: list[TaskRunResponse]
    total: int
    skip: int
    limit: int


class TaskRunLogLine(Model):
    step_id: str | None
    level: str
    message: str
    timestamp: datetime


class TaskRunLogs(Model):
    items: list[TaskRunLogLine]
    total: int
    skip: int
    limit: int
    run_id: str


class TaskRunResponse(Model):
    id: str
    task_id: str | None
    workflow_id: str
    status: Literal["pending", "running", "completed", "failed", "cancelled", "timeout"]
    plan: str | None
    results: dict[str, Any]
    error: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


class TaskRunUpdate(Model):
    status: (
        Literal["pending", "running", "completed", "failed", "cancelled", "timeout"]
        | Literal["paused"]
    )


class TaskUpdate(Model):
    name: str | None = None
    description: str | None = None
    max_rounds: int | None = None


class Tokens(Model):
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None


class ValidationIssue(Model):
    code: str
    message: str
    node_id: str | None = None
    edge_id: str | None = None
    path: str | None = None


class ValidationResponse(Model):
    valid: bool
    errors: list[str]
    issues: list[ValidationIssue]


class Vote(Model):
    by: str
    approved: bool
    comment: str | None = None
    at: str


class WaitingStep(Model):
    step_id: str
    step_type: str
    status: Literal[
        "pending",
        "queued",
        "running",
        "waiting",
        "retrying",
        "completed",
        "failed",
        "skipped",
        "cancelled",
        "held",
    ]
    attempt: int
    since: datetime | None
    waits_for: str
    request: dict[str, Any] | None = None
    deadline: datetime | None = None


class WebhookDeliveryResponse(Model):
    id: str
    delivery_id: str | None
    outcome: str
    reason: str | None
    detail: str | None
    run_id: str | None
    created_at: datetime


class WebhookTriggerCreate(Model):
    name: str
    workflow_id: str
    pinned: bool = False
    scheme: Scheme = "standard_webhooks"
    hmac: HmacOptions | None = None
    transform: dict[str, Any] | None = None


class WebhookTriggerCreated(Model):
    id: str
    name: str
    workflow_id: str
    pinned: bool = False
    scheme: Scheme
    scheme_options: dict[str, Any]
    transform: dict[str, Any] | None
    path: str
    created_by: str | None
    created_at: datetime
    rotated_at: datetime | None
    previous_expires_at: datetime | None
    secret: str


class WebhookTriggerResponse(Model):
    id: str
    name: str
    workflow_id: str
    pinned: bool = False
    scheme: Scheme
    scheme_options: dict[str, Any]
    transform: dict[str, Any] | None
    path: str
    created_by: str | None
    created_at: datetime
    rotated_at: datetime | None
    previous_expires_at: datetime | None


class WorkflowCreate(Model):
    name: str
    description: str = ""
    definition: WorkflowDefinition | None = None
    input_schema: dict[str, Any] | None = None


class WorkflowDefinition(Model):
    nodes: list[Node] | None = None
    edges: list[Edge] | None = None


class WorkflowResponse(Model):
    archived_at: datetime | None = None
    id: str
    lineage_id: str
    name: str
    description: str
    version: int
    status: Literal["draft", "published"]
    definition: dict[str, Any]
    input_schema: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    paused: bool = False
    archived: bool


class WorkflowStatsResponse(Model):
    workflow_id: str
    since: datetime
    until: datetime
    total_runs: int
    by_status: dict[str, int]
    success_rate: float | None
    duration_seconds: Durations


class WorkflowUpdate(Model):
    """Any subset of the fields; `input_schema: null` removes the schema, the others may be
    left out but not set to null."""

    name: str | None = None
    description: str | None = None
    definition: WorkflowDefinition | None = None
    input_schema: dict[str, Any] | None = None


class WorkflowVersion(Model):
    archived_at: datetime | None = None
    id: str
    version: int
    status: Literal["draft", "published"]
    name: str
    created_at: datetime
    published_at: datetime | None
    archived: bool
