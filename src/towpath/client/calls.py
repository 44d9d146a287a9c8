"""One function per operation of the API, each describing its call.

Generated from the server's OpenAPI document by towpath.client.generate: do not edit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from towpath.client import models as m
from towpath.client.call import Call, _part

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime


def list_workflows(
    *,
    status: Literal["draft", "published"] | None = None,
    page: int | None = None,
    per_page: int | None = None,
    sort: Literal[
        "created_at",
        "-created_at",
        "name",
        "-name",
        "updated_at",
        "-updated_at",
        "version",
        "-version",
    ]
    | None = None,
) -> Call[list[m.WorkflowResponse]]:
    """List Workflows"""
    return Call(
        "GET",
        "/workflows",
        list[m.WorkflowResponse],
        params={"status": status, "page": page, "per_page": per_page, "sort": sort},
    )


def create_workflow(
    body: m.WorkflowCreate | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Call[m.WorkflowResponse]:
    """Create Workflow"""
    return Call(
        "POST",
        "/workflows",
        m.WorkflowResponse,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def get_workflow(workflow_id: str) -> Call[m.WorkflowResponse]:
    """Get Workflow"""
    return Call("GET", f"/workflows/{_part(workflow_id)}", m.WorkflowResponse)


def update_workflow(
    workflow_id: str, body: m.WorkflowUpdate | Mapping[str, Any]
) -> Call[m.WorkflowResponse]:
    """Change a draft. A published version stays frozen: the change makes the workflow's next
    version, a draft with its own id, which is returned."""
    return Call("PUT", f"/workflows/{_part(workflow_id)}", m.WorkflowResponse, body=body)


def delete_workflow(workflow_id: str) -> Call[None]:
    """Delete Workflow"""
    return Call("DELETE", f"/workflows/{_part(workflow_id)}", None)


def publish_workflow(workflow_id: str) -> Call[m.WorkflowResponse]:
    """Publish Workflow"""
    return Call("POST", f"/workflows/{_part(workflow_id)}/publish", m.WorkflowResponse)


def validate_workflow(workflow_id: str) -> Call[m.ValidationResponse]:
    """Validate Workflow"""
    return Call("POST", f"/workflows/{_part(workflow_id)}/validate", m.ValidationResponse)


def duplicate_workflow(
    workflow_id: str, *, idempotency_key: str | None = None
) -> Call[m.WorkflowResponse]:
    """Duplicate Workflow"""
    return Call(
        "POST",
        f"/workflows/{_part(workflow_id)}/duplicate",
        m.WorkflowResponse,
        headers={"x-idempotency-key": idempotency_key},
    )


def list_workflow_versions(
    workflow_id: str,
    *,
    page: int | None = None,
    per_page: int | None = None,
    sort: Literal[
        "created_at",
        "-created_at",
        "name",
        "-name",
        "updated_at",
        "-updated_at",
        "version",
        "-version",
    ]
    | None = None,
) -> Call[list[m.WorkflowVersion]]:
    """List Workflow Versions"""
    return Call(
        "GET",
        f"/workflows/{_part(workflow_id)}/versions",
        list[m.WorkflowVersion],
        params={"page": page, "per_page": per_page, "sort": sort},
    )


def pause_workflow(workflow_id: str) -> Call[m.WorkflowResponse]:
    """Stop every version of the workflow from starting runs, whoever asks: a person, a
    trigger, or another run's sub_workflow step. New runs are accepted and wait, pending
    with `waiting_for: {"reason": "workflow_paused"}`, until the unpause. Runs already
    started go on; `POST /runs/{id}/cancel-tree` stops them."""
    return Call("POST", f"/workflows/{_part(workflow_id)}/pause", m.WorkflowResponse)


def unpause_workflow(workflow_id: str) -> Call[m.WorkflowResponse]:
    """Unpause Workflow"""
    return Call("POST", f"/workflows/{_part(workflow_id)}/unpause", m.WorkflowResponse)


def archive_workflow(workflow_id: str) -> Call[m.WorkflowResponse]:
    """Stop this published version from starting runs, whoever asks: a person, a webhook, a
    schedule, an event trigger (409 WORKFLOW_ARCHIVED) or a parent run's sub_workflow
    step. Its runs in flight go on; it is still read and listed, with `archived: true`."""
    return Call("POST", f"/workflows/{_part(workflow_id)}/archive", m.WorkflowResponse)


def unarchive_workflow(workflow_id: str) -> Call[m.WorkflowResponse]:
    """Unarchive Workflow"""
    return Call("POST", f"/workflows/{_part(workflow_id)}/unarchive", m.WorkflowResponse)


def start_run(
    workflow_id: str, body: m.RunInput | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Call[m.RunResponse]:
    """Start Run"""
    return Call(
        "POST",
        f"/workflows/{_part(workflow_id)}/run",
        m.RunResponse,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def list_runs(
    *,
    workflow_id: str | None = None,
    status: Literal["pending", "running", "waiting", "completed", "failed", "cancelled", "paused"]
    | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    lineage_id: str | None = None,
    project_id: str | None = None,
    page: int | None = None,
    per_page: int | None = None,
    sort: Literal["completed_at", "-completed_at", "created_at", "-created_at", "status", "-status"]
    | None = None,
) -> Call[list[m.RunSummary]]:
    """List Runs"""
    return Call(
        "GET",
        "/runs",
        list[m.RunSummary],
        params={
            "workflow_id": workflow_id,
            "status": status,
            "since": since,
            "until": until,
            "lineage_id": lineage_id,
            "project_id": project_id,
            "page": page,
            "per_page": per_page,
            "sort": sort,
        },
    )


def get_run(run_id: str) -> Call[m.RunResponse]:
    """Get Run"""
    return Call("GET", f"/runs/{_part(run_id)}", m.RunResponse)


def delete_run(run_id: str) -> Call[None]:
    """Only a finished run (completed, failed, cancelled) whose sub-runs all ended: it goes
    with them, their steps, events, logs and queue tasks (409 INVALID_RUN_STATE while
    any is in flight, nothing deleted). The audit log keeps an entry saying so."""
    return Call("DELETE", f"/runs/{_part(run_id)}", None)


def list_run_steps(run_id: str) -> Call[list[m.StepRunResponse]]:
    """List Run Steps"""
    return Call("GET", f"/runs/{_part(run_id)}/steps", list[m.StepRunResponse])


def list_run_events(
    run_id: str, *, after: int | None = None, limit: int | None = None
) -> Call[list[m.RunEventResponse]]:
    """The run's events in order; without `limit`, every one (the whole history to replay)."""
    return Call(
        "GET",
        f"/runs/{_part(run_id)}/events",
        list[m.RunEventResponse],
        params={"after": after, "limit": limit},
    )


def list_run_logs(
    run_id: str, *, after: int | None = None, limit: int | None = None
) -> Call[list[m.RunLogResponse]]:
    """List Run Logs"""
    return Call(
        "GET",
        f"/runs/{_part(run_id)}/logs",
        list[m.RunLogResponse],
        params={"after": after, "limit": limit},
    )


def resume_run(
    run_id: str,
    *,
    idempotency_key: str | None = None,
    body: m.ResumeInput | Mapping[str, Any] | None = None,
) -> Call[m.RunResponse]:
    """Answer the run's waiting step with `data`; with no body, the one waiting step is
    answered with none (an approval is approved)."""
    return Call(
        "POST",
        f"/runs/{_part(run_id)}/resume",
        m.RunResponse,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def approve_run(
    run_id: str, body: m.ApproveInput | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Call[m.RunResponse]:
    """Approve Run"""
    return Call(
        "POST",
        f"/runs/{_part(run_id)}/approve",
        m.RunResponse,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def clarify_run(
    run_id: str, body: m.ClarifyInput | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Call[m.RunResponse]:
    """Clarify Run"""
    return Call(
        "POST",
        f"/runs/{_part(run_id)}/clarify",
        m.RunResponse,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def cancel_run(
    run_id: str,
    *,
    idempotency_key: str | None = None,
    body: m.CancelInput | Mapping[str, Any] | None = None,
) -> Call[m.RunResponse]:
    """Cancel Run"""
    return Call(
        "POST",
        f"/runs/{_part(run_id)}/cancel",
        m.RunResponse,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def retry_run(
    run_id: str,
    *,
    dry_run: bool | None = None,
    idempotency_key: str | None = None,
    body: m.RetryInput | Mapping[str, Any] | None = None,
) -> Call[m.RunResponse | m.RetryPlanResponse]:
    """Run a run's steps again: its failed steps, or from `from_step` on, with
    `input_overrides` and on the newest version (`to_latest`) if asked. With
    `?dry_run=true` the answer is the plan, and nothing changes."""
    return Call(
        "POST",
        f"/runs/{_part(run_id)}/retry",
        m.RunResponse | m.RetryPlanResponse,
        params={"dry_run": dry_run},
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def cancel_run_tree(
    run_id: str, *, body: m.CancelInput | Mapping[str, Any] | None = None
) -> Call[m.RunTreeCancelResponse]:
    """Cancel the run and every run below it, including runs started with `wait: false`. A run
    that already ended is left as it is (200, not 409), and the live runs it started are
    cancelled all the same."""
    return Call("POST", f"/runs/{_part(run_id)}/cancel-tree", m.RunTreeCancelResponse, body=body)


def pause_run(
    run_id: str,
    *,
    idempotency_key: str | None = None,
    body: m.PauseInput | Mapping[str, Any] | None = None,
) -> Call[m.RunResponse]:
    """Steps in flight finish and are recorded; the steps they make ready, and timers that fall
    due, wait for the unpause. Runs the run started go on."""
    return Call(
        "POST",
        f"/runs/{_part(run_id)}/pause",
        m.RunResponse,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def unpause_run(run_id: str, *, idempotency_key: str | None = None) -> Call[m.RunResponse]:
    """Held steps are queued again, and timers that fell due while paused fire at once."""
    return Call(
        "POST",
        f"/runs/{_part(run_id)}/unpause",
        m.RunResponse,
        headers={"x-idempotency-key": idempotency_key},
    )


def get_workflow_stats(
    workflow_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    versions: Literal["one", "all"] | None = None,
) -> Call[m.WorkflowStatsResponse]:
    """Runs created in the window; `since` after `until` is a 400, `since` equal to `until` an
    empty window. `versions=all` counts the runs of every version of the workflow
    `workflow_id` is a version of (any version's id names the same lineage)."""
    return Call(
        "GET",
        f"/workflows/{_part(workflow_id)}/stats",
        m.WorkflowStatsResponse,
        params={"since": since, "until": until, "versions": versions},
    )


def get_run_metrics(
    run_id: str,
    *,
    page: int | None = None,
    per_page: int | None = None,
    sort: Literal[
        "created_at", "-created_at", "duration_seconds", "-duration_seconds", "step_id", "-step_id"
    ]
    | None = None,
) -> Call[m.RunMetricsResponse]:
    """Get Run Metrics"""
    return Call(
        "GET",
        f"/runs/{_part(run_id)}/metrics",
        m.RunMetricsResponse,
        params={"page": page, "per_page": per_page, "sort": sort},
    )


def list_event_triggers(
    *,
    event_name: str | None = None,
    page: int | None = None,
    per_page: int | None = None,
    sort: Literal["created_at", "-created_at", "name", "-name"] | None = None,
) -> Call[list[m.EventTriggerResponse]]:
    """List Event Triggers"""
    return Call(
        "GET",
        "/triggers/events",
        list[m.EventTriggerResponse],
        params={"event_name": event_name, "page": page, "per_page": per_page, "sort": sort},
    )


def create_event_trigger(
    body: m.EventTriggerCreate | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Call[m.EventTriggerResponse]:
    """Subscribe a workflow to an event name: each event posted under it (that passes the
    filter) starts a run, in the post's transaction."""
    return Call(
        "POST",
        "/triggers/events",
        m.EventTriggerResponse,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def get_event_trigger(trigger_id: str) -> Call[m.EventTriggerResponse]:
    """Get Event Trigger"""
    return Call("GET", f"/triggers/events/{_part(trigger_id)}", m.EventTriggerResponse)


def delete_event_trigger(trigger_id: str) -> Call[None]:
    """Delete the subscription; the runs it started stay."""
    return Call("DELETE", f"/triggers/events/{_part(trigger_id)}", None)


def post_event(
    body: m.EventInput | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Call[m.EventDelivery]:
    """Answer the `wait_for_event` steps waiting for this name and key, and start a run of each
    event trigger subscribed to the name. With an `id` (or X-Idempotency-Key), the same
    id posted again answers the first post's answer and starts nothing."""
    return Call(
        "POST",
        "/events",
        m.EventDelivery,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def list_step_types() -> Call[list[m.StepCatalogEntry]]:
    """List Step Types"""
    return Call("GET", "/catalog/steps", list[m.StepCatalogEntry])


def list_api_keys(
    *,
    page: int | None = None,
    per_page: int | None = None,
    sort: Literal["created_at", "-created_at", "name", "-name", "role", "-role"] | None = None,
) -> Call[list[m.ApiKeyResponse]]:
    """List Api Keys"""
    return Call(
        "GET",
        "/api-keys",
        list[m.ApiKeyResponse],
        params={"page": page, "per_page": per_page, "sort": sort},
    )


def create_api_key(
    body: m.ApiKeyCreate | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Call[m.ApiKeyCreated]:
    """A new key of the caller's workspace; `expires_at`, if given, must be in the future (else
    422). Repeated with the same `X-Idempotency-Key`, it issues no second key: the
    answer is a 409 `API_KEY_ALREADY_ISSUED` naming the first, whose secret was shown
    once."""
    return Call(
        "POST",
        "/api-keys",
        m.ApiKeyCreated,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def get_api_key(key_id: str) -> Call[m.ApiKeyResponse]:
    """Get Api Key"""
    return Call("GET", f"/api-keys/{_part(key_id)}", m.ApiKeyResponse)


def revoke_api_key(key_id: str) -> Call[m.ApiKeyResponse]:
    """Revoke a key: requests with it are refused, and the streams it opened close (4401);
    revoking it again changes nothing."""
    return Call("DELETE", f"/api-keys/{_part(key_id)}", m.ApiKeyResponse)


def list_members(
    *,
    page: int | None = None,
    per_page: int | None = None,
    sort: Literal["created_at", "-created_at", "role", "-role", "subject", "-subject"]
    | None = None,
) -> Call[list[m.MemberResponse]]:
    """List Members"""
    return Call(
        "GET",
        "/members",
        list[m.MemberResponse],
        params={"page": page, "per_page": per_page, "sort": sort},
    )


def add_member(
    body: m.MemberCreate | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Call[m.MemberResponse]:
    """Add a JWT user. A user of another workspace keeps acting there by default: it names this
    one with `X-Workspace`."""
    return Call(
        "POST",
        "/members",
        m.MemberResponse,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def get_member(member_id: str) -> Call[m.MemberResponse]:
    """Get Member"""
    return Call("GET", f"/members/{_part(member_id)}", m.MemberResponse)


def change_member_role(
    member_id: str, body: m.MemberUpdate | Mapping[str, Any]
) -> Call[m.MemberResponse]:
    """Change Member Role"""
    return Call("PUT", f"/members/{_part(member_id)}", m.MemberResponse, body=body)


def remove_member(member_id: str) -> Call[None]:
    """Remove a member: its requests here are refused, its streams close (4401)."""
    return Call("DELETE", f"/members/{_part(member_id)}", None)


def list_audit_entries(
    *,
    actor: str | None = None,
    action: str | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int | None = None,
    per_page: int | None = None,
    sort: Literal["action", "-action", "created_at", "-created_at"] | None = None,
) -> Call[list[m.AuditEntryResponse]]:
    """List Audit Entries"""
    return Call(
        "GET",
        "/audit",
        list[m.AuditEntryResponse],
        params={
            "actor": actor,
            "action": action,
            "resource_type": resource_type,
            "resource_id": resource_id,
            "since": since,
            "until": until,
            "page": page,
            "per_page": per_page,
            "sort": sort,
        },
    )


def create_stream_token() -> Call[m.StreamTokenResponse]:
    """A token that opens WebSocket and Server-Sent Events streams for a minute, as the caller
    and no more: the stream then lasts as long as the caller's own credential."""
    return Call("POST", "/stream-tokens", m.StreamTokenResponse)


def list_webhook_triggers(
    *,
    page: int | None = None,
    per_page: int | None = None,
    sort: Literal["created_at", "-created_at", "name", "-name"] | None = None,
) -> Call[list[m.WebhookTriggerResponse]]:
    """List Webhook Triggers"""
    return Call(
        "GET",
        "/triggers/webhooks",
        list[m.WebhookTriggerResponse],
        params={"page": page, "per_page": per_page, "sort": sort},
    )


def create_webhook_trigger(
    body: m.WebhookTriggerCreate | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Call[m.WebhookTriggerCreated]:
    """A trigger that starts runs of the workflow; deliver to its `path`."""
    return Call(
        "POST",
        "/triggers/webhooks",
        m.WebhookTriggerCreated,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def get_webhook_trigger(trigger_id: str) -> Call[m.WebhookTriggerResponse]:
    """Get Webhook Trigger"""
    return Call("GET", f"/triggers/webhooks/{_part(trigger_id)}", m.WebhookTriggerResponse)


def delete_webhook_trigger(trigger_id: str) -> Call[None]:
    """Delete the trigger and its delivery log; its runs stay."""
    return Call("DELETE", f"/triggers/webhooks/{_part(trigger_id)}", None)


def rotate_webhook_secret(
    trigger_id: str, *, body: m.RotateSecretInput | Mapping[str, Any] | None = None
) -> Call[m.WebhookTriggerCreated]:
    """A new secret, shown this once; the old one still verifies for `overlap_seconds`."""
    return Call(
        "POST",
        f"/triggers/webhooks/{_part(trigger_id)}/rotate-secret",
        m.WebhookTriggerCreated,
        body=body,
    )


def list_webhook_deliveries(
    trigger_id: str,
    *,
    page: int | None = None,
    per_page: int | None = None,
    sort: Literal["created_at", "-created_at"] | None = None,
) -> Call[list[m.WebhookDeliveryResponse]]:
    """List Webhook Deliveries"""
    return Call(
        "GET",
        f"/triggers/webhooks/{_part(trigger_id)}/deliveries",
        list[m.WebhookDeliveryResponse],
        params={"page": page, "per_page": per_page, "sort": sort},
    )


def start_run_from_webhook(
    workflow_id: str, *, idempotency_key: str | None = None, body: Mapping[str, Any] | None = None
) -> Call[m.RunResponse]:
    """Start a run whose input is the body: a JSON object or form as it is, any other body as
    `{"body": …}`."""
    return Call(
        "POST",
        f"/triggers/webhook/{_part(workflow_id)}",
        m.RunResponse,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def put_schedule_trigger(body: m.ScheduleCreate | Mapping[str, Any]) -> Call[m.ScheduleResponse]:
    """Make the schedule of this name (201), or change it (200)."""
    return Call("POST", "/triggers/schedule", m.ScheduleResponse, body=body)


def list_schedules(
    *,
    page: int | None = None,
    per_page: int | None = None,
    sort: Literal["created_at", "-created_at", "name", "-name"] | None = None,
) -> Call[list[m.ScheduleResponse]]:
    """List Schedules"""
    return Call(
        "GET",
        "/schedules",
        list[m.ScheduleResponse],
        params={"page": page, "per_page": per_page, "sort": sort},
    )


def create_schedule(
    body: m.ScheduleCreate | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Call[m.ScheduleResponse]:
    """Create Schedule"""
    return Call(
        "POST",
        "/schedules",
        m.ScheduleResponse,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def get_schedule(schedule_id: str) -> Call[m.ScheduleDetail]:
    """The schedule, its next five fire times and its last ten ticks."""
    return Call("GET", f"/schedules/{_part(schedule_id)}", m.ScheduleDetail)


def update_schedule(
    schedule_id: str, body: m.ScheduleCreate | Mapping[str, Any]
) -> Call[m.ScheduleResponse]:
    """Replace the schedule; its ticks go on from now."""
    return Call("PUT", f"/schedules/{_part(schedule_id)}", m.ScheduleResponse, body=body)


def delete_schedule(schedule_id: str) -> Call[None]:
    """Delete the schedule and its ticks; its runs stay."""
    return Call("DELETE", f"/schedules/{_part(schedule_id)}", None)


def pause_schedule(
    schedule_id: str, *, body: m.PauseInput | Mapping[str, Any] | None = None
) -> Call[m.ScheduleResponse]:
    """Pause Schedule"""
    return Call("POST", f"/schedules/{_part(schedule_id)}/pause", m.ScheduleResponse, body=body)


def unpause_schedule(schedule_id: str) -> Call[m.ScheduleResponse]:
    """Ticks go on from now: those that fell while it was paused do not fire."""
    return Call("POST", f"/schedules/{_part(schedule_id)}/unpause", m.ScheduleResponse)


def trigger_schedule(
    schedule_id: str,
    *,
    idempotency_key: str | None = None,
    body: m.FireInput | Mapping[str, Any] | None = None,
) -> Call[m.FireResponse]:
    """A tick now, under the schedule's overlap policy unless the body names another. Repeated
    with the same `X-Idempotency-Key`, it answers the first tick again."""
    return Call(
        "POST",
        f"/schedules/{_part(schedule_id)}/trigger",
        m.FireResponse,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def backfill_schedule(
    schedule_id: str, body: m.BackfillInput | Mapping[str, Any]
) -> Call[m.BackfillResponse]:
    """Every tick of the spec from `start` until `end`, in order; a tick taken before is not
    taken again."""
    return Call("POST", f"/schedules/{_part(schedule_id)}/backfill", m.BackfillResponse, body=body)


def list_schedule_fires(
    schedule_id: str,
    *,
    page: int | None = None,
    per_page: int | None = None,
    sort: Literal["scheduled_at", "-scheduled_at"] | None = None,
) -> Call[list[m.FireResponse]]:
    """Every tick taken, newest first: what it did and the run it started."""
    return Call(
        "GET",
        f"/schedules/{_part(schedule_id)}/fires",
        list[m.FireResponse],
        params={"page": page, "per_page": per_page, "sort": sort},
    )


def list_subscriptions(
    *,
    page: int | None = None,
    per_page: int | None = None,
    sort: Literal["created_at", "-created_at", "url", "-url"] | None = None,
) -> Call[list[m.SubscriptionResponse]]:
    """List Subscriptions"""
    return Call(
        "GET",
        "/subscriptions",
        list[m.SubscriptionResponse],
        params={"page": page, "per_page": per_page, "sort": sort},
    )


def create_subscription(
    body: m.SubscriptionCreate | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Call[m.SubscriptionCreated]:
    """Deliver the workspace's run events of these types to the URL, signed with the returned
    `whsec_…` secret (Standard Webhooks)."""
    return Call(
        "POST",
        "/subscriptions",
        m.SubscriptionCreated,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def get_subscription(subscription_id: str) -> Call[m.SubscriptionResponse]:
    """Get Subscription"""
    return Call("GET", f"/subscriptions/{_part(subscription_id)}", m.SubscriptionResponse)


def update_subscription(
    subscription_id: str, *, body: m.SubscriptionUpdate | Mapping[str, Any] | None = None
) -> Call[m.SubscriptionResponse]:
    """Change the URL, event types, workflow or description; enable or disable it."""
    return Call(
        "PATCH", f"/subscriptions/{_part(subscription_id)}", m.SubscriptionResponse, body=body
    )


def delete_subscription(subscription_id: str) -> Call[None]:
    """Delete the subscription, its pending deliveries and their log."""
    return Call("DELETE", f"/subscriptions/{_part(subscription_id)}", None)


def rotate_subscription_secret(
    subscription_id: str, *, body: m.RotateSecretInput | Mapping[str, Any] | None = None
) -> Call[m.SubscriptionCreated]:
    """A new secret, shown this once; deliveries are signed by the old one too for
    `overlap_seconds`, so a receiver can switch without refusing any."""
    return Call(
        "POST",
        f"/subscriptions/{_part(subscription_id)}/rotate-secret",
        m.SubscriptionCreated,
        body=body,
    )


def list_subscription_deliveries(
    subscription_id: str,
    *,
    status: Literal["pending", "delivered", "failed"] | None = None,
    page: int | None = None,
    per_page: int | None = None,
    sort: Literal["created_at", "-created_at"] | None = None,
) -> Call[list[m.DeliveryResponse]]:
    """Each event sent or to send, newest first, with every attempt made."""
    return Call(
        "GET",
        f"/subscriptions/{_part(subscription_id)}/deliveries",
        list[m.DeliveryResponse],
        params={"status": status, "page": page, "per_page": per_page, "sort": sort},
    )


def list_agents(
    *,
    page: int | None = None,
    per_page: int | None = None,
    sort: Literal["created_at", "-created_at", "name", "-name", "updated_at", "-updated_at"]
    | None = None,
    kind: str | None = None,
    enabled: bool | None = None,
    capability: str | None = None,
    name: str | None = None,
) -> Call[list[m.AgentResponse]]:
    """List Agents"""
    return Call(
        "GET",
        "/agents",
        list[m.AgentResponse],
        params={
            "page": page,
            "per_page": per_page,
            "sort": sort,
            "kind": kind,
            "enabled": enabled,
            "capability": capability,
            "name": name,
        },
    )


def create_agent(
    body: m.AgentCreate | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Call[m.AgentResponse]:
    """Register an agent; a name already used in the workspace is a 409."""
    return Call(
        "POST",
        "/agents",
        m.AgentResponse,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def get_agent(agent_id: str) -> Call[m.AgentResponse]:
    """Get Agent"""
    return Call("GET", f"/agents/{_part(agent_id)}", m.AgentResponse)


def replace_agent(agent_id: str, body: m.AgentCreate | Mapping[str, Any]) -> Call[m.AgentResponse]:
    """Set every field; one left out goes back to its default."""
    return Call("PUT", f"/agents/{_part(agent_id)}", m.AgentResponse, body=body)


def update_agent(agent_id: str, body: m.AgentPatch | Mapping[str, Any]) -> Call[m.AgentResponse]:
    """Change the fields given."""
    return Call("PATCH", f"/agents/{_part(agent_id)}", m.AgentResponse, body=body)


def delete_agent(agent_id: str) -> Call[None]:
    """Soft delete: steps no longer find it and its name is free; runs keep naming it."""
    return Call("DELETE", f"/agents/{_part(agent_id)}", None)


def check_agent_health(agent_id: str) -> Call[m.AgentHealthResponse]:
    """Call the agent's health URL now, within its timeout: up or down, status, latency."""
    return Call("GET", f"/agents/{_part(agent_id)}/health", m.AgentHealthResponse)


def list_secrets(
    *,
    page: int | None = None,
    per_page: int | None = None,
    sort: Literal["created_at", "-created_at", "name", "-name"] | None = None,
) -> Call[list[m.SecretResponse]]:
    """Names and metadata; values are never returned."""
    return Call(
        "GET",
        "/secrets",
        list[m.SecretResponse],
        params={"page": page, "per_page": per_page, "sort": sort},
    )


def create_secret(body: m.SecretCreate | Mapping[str, Any]) -> Call[m.SecretResponse]:
    """Store a value, encrypted; templates read it as `{{ secrets.NAME }}`. No `X-Idempotency-
    Key`: its record would keep a digest of the body, the value in it; a repeated name
    is a 409 instead."""
    return Call("POST", "/secrets", m.SecretResponse, body=body)


def get_secret(name: str) -> Call[m.SecretResponse]:
    """Get Secret"""
    return Call("GET", f"/secrets/{_part(name)}", m.SecretResponse)


def delete_secret(name: str) -> Call[None]:
    """Delete Secret"""
    return Call("DELETE", f"/secrets/{_part(name)}", None)


def rotate_secret(name: str, body: m.SecretRotate | Mapping[str, Any]) -> Call[m.SecretResponse]:
    """Replace the value; steps that start after this read the new one."""
    return Call("POST", f"/secrets/{_part(name)}/rotate", m.SecretResponse, body=body)


def list_queues() -> Call[list[m.QueueResponse]]:
    """The workspace's queues with open tasks or workers."""
    return Call("GET", "/queues", list[m.QueueResponse])


def get_queue(name: str) -> Call[m.QueueResponse]:
    """One queue's figures; a queue nothing was put on yet shows zeros."""
    return Call("GET", f"/queues/{_part(name)}", m.QueueResponse)


def poll_queue(name: str, body: m.PollRequest | Mapping[str, Any]) -> Call[m.PollResponse]:
    """Lease tasks; with none ready, wait up to `wait_seconds` for one (a long poll)."""
    return Call("POST", f"/queues/{_part(name)}/poll", m.PollResponse, body=body)


def heartbeat_task(
    name: str, task_id: str, body: m.HeartbeatRequest | Mapping[str, Any]
) -> Call[m.HeartbeatResponse]:
    """Still at work: the lease now ends `extend_seconds` from now."""
    return Call(
        "POST",
        f"/queues/{_part(name)}/tasks/{_part(task_id)}/heartbeat",
        m.HeartbeatResponse,
        body=body,
    )


def complete_task(
    name: str,
    task_id: str,
    body: m.CompleteRequest | Mapping[str, Any],
    *,
    idempotency_key: str | None = None,
) -> Call[m.TaskAnswerResponse]:
    """The task's result: it becomes the step's output and the run goes on. Sent again with the
    same `X-Idempotency-Key` (a worker that lost the answer), the first answer."""
    return Call(
        "POST",
        f"/queues/{_part(name)}/tasks/{_part(task_id)}/complete",
        m.TaskAnswerResponse,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def fail_task(
    name: str,
    task_id: str,
    body: m.FailRequest | Mapping[str, Any],
    *,
    idempotency_key: str | None = None,
) -> Call[m.TaskAnswerResponse]:
    """The worker could not do it: retried as the step's policy allows, or the step fails. Sent
    again with the same `X-Idempotency-Key`, the first answer."""
    return Call(
        "POST",
        f"/queues/{_part(name)}/tasks/{_part(task_id)}/fail",
        m.TaskAnswerResponse,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def list_retention_policies() -> Call[list[m.RetentionPolicyResponse]]:
    """The workspace's policy first, then each workflow's that has its own (and wins over the
    workspace's for the runs of every version of it)."""
    return Call("GET", "/retention", list[m.RetentionPolicyResponse])


def set_workspace_retention(
    body: m.RetentionInput | Mapping[str, Any],
) -> Call[m.RetentionPolicyResponse]:
    """Finished runs older than this are deleted with their trees, a small batch at a time,
    each batch audited; a tree with a run in flight is kept."""
    return Call("PUT", "/retention", m.RetentionPolicyResponse, body=body)


def set_workflow_retention(
    workflow_id: str, body: m.RetentionInput | Mapping[str, Any]
) -> Call[m.RetentionPolicyResponse]:
    """Set Workflow Retention"""
    return Call(
        "PUT", f"/workflows/{_part(workflow_id)}/retention", m.RetentionPolicyResponse, body=body
    )


def list_groups(
    *,
    page: int | None = None,
    per_page: int | None = None,
    sort: Literal["created_at", "-created_at", "name", "-name"] | None = None,
) -> Call[list[m.GroupResponse]]:
    """List Groups"""
    return Call(
        "GET",
        "/groups",
        list[m.GroupResponse],
        params={"page": page, "per_page": per_page, "sort": sort},
    )


def create_group(
    body: m.GroupCreate | Mapping[str, Any], *, idempotency_key: str | None = None
) -> Call[m.GroupResponse]:
    """A name taken in this workspace already is a 409. An approval naming `group:<name>` that
    its own `groups` does not define takes this group's members when it starts to wait."""
    return Call(
        "POST",
        "/groups",
        m.GroupResponse,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def get_group(name: str) -> Call[m.GroupResponse]:
    """Get Group"""
    return Call("GET", f"/groups/{_part(name)}", m.GroupResponse)


def set_group_members(name: str, body: m.GroupUpdate | Mapping[str, Any]) -> Call[m.GroupResponse]:
    """Replace the members. Approvals already waiting keep the members they started with."""
    return Call("PUT", f"/groups/{_part(name)}", m.GroupResponse, body=body)


def delete_group(name: str) -> Call[None]:
    """Delete Group"""
    return Call("DELETE", f"/groups/{_part(name)}", None)


def list_inbox(
    *,
    page: int | None = None,
    per_page: int | None = None,
    sort: Literal["waiting_since", "-waiting_since"] | None = None,
    workflow_id: str | None = None,
    type: Literal["approval", "clarification"] | None = None,
    since: datetime | None = None,
) -> Call[list[m.InboxItemResponse]]:
    """Waiting approvals the caller may vote on now (an approver, not barred as the run's
    starter, not having voted) and waiting clarifications, oldest first. Answering needs
    the operator role: a viewer's inbox is empty."""
    return Call(
        "GET",
        "/inbox",
        list[m.InboxItemResponse],
        params={
            "page": page,
            "per_page": per_page,
            "sort": sort,
            "workflow_id": workflow_id,
            "type": type,
            "since": since,
        },
    )


def count_inbox(
    *,
    workflow_id: str | None = None,
    type: Literal["approval", "clarification"] | None = None,
    since: datetime | None = None,
) -> Call[m.InboxCount]:
    """Count Inbox"""
    return Call(
        "GET",
        "/inbox/count",
        m.InboxCount,
        params={"workflow_id": workflow_id, "type": type, "since": since},
    )


def get_me() -> Call[m.CallerResponse]:
    """Who the credential stands for, for any role: a client shows only what it allows."""
    return Call("GET", "/me", m.CallerResponse)


def deliver_webhook(hook_id: str, *, body: Mapping[str, Any] | None = None) -> Call[m.RunResponse]:
    """Start the trigger's run. A bad or missing signature, a timestamp more than five minutes
    off, or an unknown trigger id is 401 and starts nothing; a delivery id seen before
    (`webhook-id`, `X-GitHub-Delivery`, `X-Idempotency-Key`) returns its run."""
    return Call("POST", f"/hooks/{_part(hook_id)}", m.RunResponse, body=body)


def complete_agent_step(
    run_id: str, step_id: str, body: m.CallbackComplete | Mapping[str, Any]
) -> Call[m.CallbackAnswer]:
    """The agent's result: it becomes the step's output and the run goes on."""
    return Call(
        "POST",
        f"/runs/{_part(run_id)}/steps/{_part(step_id)}/complete",
        m.CallbackAnswer,
        body=body,
    )


def fail_agent_step(
    run_id: str, step_id: str, body: m.CallbackFail | Mapping[str, Any]
) -> Call[m.CallbackAnswer]:
    """The agent could not do it: the step fails with its error."""
    return Call(
        "POST", f"/runs/{_part(run_id)}/steps/{_part(step_id)}/fail", m.CallbackAnswer, body=body
    )


def agent_step_heartbeat(
    run_id: str, step_id: str, body: m.CallbackHeartbeat | Mapping[str, Any]
) -> Call[m.CallbackAnswer]:
    """Still at work: the step's deadline moves to `extend_seconds` from now."""
    return Call(
        "POST",
        f"/runs/{_part(run_id)}/steps/{_part(step_id)}/heartbeat",
        m.CallbackAnswer,
        body=body,
    )


def get_health() -> Call[dict[str, str]]:
    """Get Health"""
    return Call("GET", "/health", dict[str, str], root=True)


def get_readiness() -> Call[dict[str, Any]]:
    """Get Readiness"""
    return Call("GET", "/health/ready", dict[str, Any], root=True)


def get_metrics() -> Call[str]:
    """Get Metrics"""
    return Call("GET", "/metrics", str, root=True)


def trigger_workflow_run(
    workflow_id: str,
    *,
    idempotency_key: str | None = None,
    body: m.RunInput | Mapping[str, Any] | None = None,
) -> Call[m.FrontRun]:
    """`POST /api/v1/workflows/{id}/run` under the front end's path; the body may be left out
    (no input). An idempotency key replays the run either path started."""
    return Call(
        "POST",
        f"/runs/workflow/{_part(workflow_id)}/trigger",
        m.FrontRun,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def list_workflow_runs(
    workflow_id: str,
    *,
    status: Literal["pending", "running", "paused", "completed", "failed", "cancelled"]
    | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int | None = None,
    per_page: int | None = None,
    sort: Literal["completed_at", "-completed_at", "created_at", "-created_at", "status", "-status"]
    | None = None,
) -> Call[list[m.FrontRun]]:
    """`GET /api/v1/runs?workflow_id={id}` under the front end's path, each run whole (input
    and context); an unknown workflow is a 404, not an empty list."""
    return Call(
        "GET",
        f"/runs/workflow/{_part(workflow_id)}",
        list[m.FrontRun],
        params={
            "status": status,
            "since": since,
            "until": until,
            "page": page,
            "per_page": per_page,
            "sort": sort,
        },
    )


def start_execution(
    workflow_id: str,
    body: m.StartWorkflowRequest | Mapping[str, Any],
    *,
    idempotency_key: str | None = None,
) -> Call[m.ExecutionResponse]:
    """Start an execution of a published workflow (version) in a project. With X-Idempotency-
    Key, a start sent again answers the first execution (200)."""
    return Call(
        "POST",
        f"/workflows/{_part(workflow_id)}/start",
        m.ExecutionResponse,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def list_executions(
    *,
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
    | None = None,
    workflow_id: str | None = None,
    project_id: str | None = None,
    page: int | None = None,
    per_page: int | None = None,
    sort: Literal["completed_at", "-completed_at", "created_at", "-created_at", "status", "-status"]
    | None = None,
) -> Call[list[m.ExecutionResponse]]:
    """Every execution that matches, newest first, unless `page`/`per_page` ask for a page."""
    return Call(
        "GET",
        "/executions",
        list[m.ExecutionResponse],
        params={
            "status": status,
            "workflow_id": workflow_id,
            "project_id": project_id,
            "page": page,
            "per_page": per_page,
            "sort": sort,
        },
    )


def get_execution(execution_id: str) -> Call[m.ExecutionResponse]:
    """Get Execution"""
    return Call("GET", f"/executions/{_part(execution_id)}", m.ExecutionResponse)


def get_workflow_execution(workflow_id: str, execution_id: str) -> Call[m.ExecutionResponse]:
    """An execution of this workflow: its version's id, or any version's lineage id."""
    return Call(
        "GET",
        f"/workflows/{_part(workflow_id)}/executions/{_part(execution_id)}",
        m.ExecutionResponse,
    )


def resume_execution(execution_id: str) -> Call[m.ExecutionResponse]:
    """Resume a paused execution; any other state is a 400. An execution waiting for an
    acceptance or a clarification goes on when it is answered."""
    return Call("POST", f"/executions/{_part(execution_id)}/resume", m.ExecutionResponse)


def cancel_execution(execution_id: str) -> Call[m.ExecutionResponse]:
    """Cancel Execution"""
    return Call("POST", f"/executions/{_part(execution_id)}/cancel", m.ExecutionResponse)


def submit_acceptance(
    execution_id: str, body: m.AcceptanceRequest | Mapping[str, Any]
) -> Call[m.ExecutionResponse]:
    """Submit Acceptance"""
    return Call(
        "POST", f"/executions/{_part(execution_id)}/acceptance", m.ExecutionResponse, body=body
    )


def submit_clarification(
    execution_id: str, body: m.ClarificationRequest | Mapping[str, Any]
) -> Call[m.ExecutionResponse]:
    """Each text answer is read as its question's type (number, boolean, choice, ...); a text
    that is not one is a 400 INVALID_ANSWER."""
    return Call(
        "POST", f"/executions/{_part(execution_id)}/clarification", m.ExecutionResponse, body=body
    )


def execute_workflow(
    workflow_id: str,
    *,
    idempotency_key: str | None = None,
    body: m.ExecuteInput | Mapping[str, Any] | None = None,
) -> Call[m.RunResponse]:
    """Start a run of the workflow's newest version (any version's id names the workflow). A
    newest version that is a draft is published first, which needs the `editor` role and
    a definition that validates (422 WORKFLOW_INVALID)."""
    return Call(
        "POST",
        f"/workflows/{_part(workflow_id)}/execute",
        m.RunResponse,
        headers={"x-idempotency-key": idempotency_key},
        body=body,
    )


def list_team_tasks(
    *,
    status: Literal["pending", "running", "completed", "failed", "cancelled", "timeout"]
    | None = None,
    skip: int | None = None,
    limit: int | None = None,
) -> Call[m.TaskListResponse]:
    """List Team Tasks"""
    return Call(
        "GET",
        "/api/tasks/",
        m.TaskListResponse,
        params={"status": status, "skip": skip, "limit": limit},
        root=True,
    )


def create_team_task(body: m.TaskCreate | Mapping[str, Any]) -> Call[m.TaskResponse]:
    """Create Team Task"""
    return Call("POST", "/api/tasks/", m.TaskResponse, body=body, root=True)


def get_team_task(task_id: str) -> Call[m.TaskResponse]:
    """Get Team Task"""
    return Call("GET", f"/api/tasks/{_part(task_id)}", m.TaskResponse, root=True)


def update_team_task(task_id: str, body: m.TaskUpdate | Mapping[str, Any]) -> Call[m.TaskResponse]:
    """Update Team Task"""
    return Call("PATCH", f"/api/tasks/{_part(task_id)}", m.TaskResponse, body=body, root=True)


def delete_team_task(task_id: str) -> Call[m.Deleted]:
    """Forgets the task; its workflow and runs stay."""
    return Call("DELETE", f"/api/tasks/{_part(task_id)}", m.Deleted, root=True)


def list_task_runs(
    *, task_id: str | None = None, skip: int | None = None, limit: int | None = None
) -> Call[m.TaskRunList]:
    """Runs, newest first; an unknown `task_id` has none."""
    return Call(
        "GET",
        "/api/runs/",
        m.TaskRunList,
        params={"task_id": task_id, "skip": skip, "limit": limit},
        root=True,
    )


def start_task_run(body: m.TaskRunCreate | Mapping[str, Any]) -> Call[m.TaskRunResponse]:
    """Starts a run of the task; it goes on in the background (watch `/ws/runs/{id}`). An
    unknown `task_id` is a 400 `INVALID_PARAMETER`, as the document's invalid reference."""
    return Call("POST", "/api/runs/", m.TaskRunResponse, body=body, root=True)


def get_task_run(run_id: str) -> Call[m.TaskRunResponse]:
    """Get Task Run"""
    return Call("GET", f"/api/runs/{_part(run_id)}", m.TaskRunResponse, root=True)


def update_task_run(
    run_id: str, body: m.TaskRunUpdate | Mapping[str, Any]
) -> Call[m.TaskRunResponse]:
    """`cancelled` cancels the run, `pending` (or `paused`) holds it, `running` lets a held run
    go on; the status the run already has changes nothing."""
    return Call("PATCH", f"/api/runs/{_part(run_id)}", m.TaskRunResponse, body=body, root=True)


def delete_task_run(run_id: str) -> Call[m.Deleted]:
    """Deletes the run with its steps, logs and metrics; a run still in flight is cancelled
    first. Needs the admin role, as `DELETE /api/v1/runs/{id}`."""
    return Call("DELETE", f"/api/runs/{_part(run_id)}", m.Deleted, root=True)


def approve_task_run(
    run_id: str, body: m.TaskRunApproval | Mapping[str, Any]
) -> Call[m.TaskRunResponse]:
    """Approves or rejects the plan the run waits on; a rejection stops the run."""
    return Call(
        "POST", f"/api/runs/{_part(run_id)}/approve", m.TaskRunResponse, body=body, root=True
    )


def list_task_run_logs(
    run_id: str, *, skip: int | None = None, limit: int | None = None
) -> Call[m.TaskRunLogs]:
    """List Task Run Logs"""
    return Call(
        "GET",
        f"/api/runs/{_part(run_id)}/logs",
        m.TaskRunLogs,
        params={"skip": skip, "limit": limit},
        root=True,
    )


def list_recorded_metrics(
    *,
    task_id: str | None = None,
    run_id: str | None = None,
    name: str | None = None,
    skip: int | None = None,
    limit: int | None = None,
) -> Call[m.RecordedMetricList]:
    """List Recorded Metrics"""
    return Call(
        "GET",
        "/api/metrics/",
        m.RecordedMetricList,
        params={"task_id": task_id, "run_id": run_id, "name": name, "skip": skip, "limit": limit},
        root=True,
    )


def get_recorded_metric(metric_id: str) -> Call[m.RecordedMetric]:
    """Get Recorded Metric"""
    return Call("GET", f"/api/metrics/{_part(metric_id)}", m.RecordedMetric, root=True)


def summarize_task_metrics(task_id: str) -> Call[m.RecordedMetricsSummary]:
    """Per metric name over every run of the task: count, min, max, avg and the last value."""
    return Call(
        "GET", f"/api/metrics/task/{_part(task_id)}/summary", m.RecordedMetricsSummary, root=True
    )


def summarize_run_metrics(run_id: str) -> Call[m.RecordedMetricsSummary]:
    """Per metric name over the run: count, min, max, avg and the last value."""
    return Call(
        "GET", f"/api/metrics/run/{_part(run_id)}/summary", m.RecordedMetricsSummary, root=True
    )
