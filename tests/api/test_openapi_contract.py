"""The OpenAPI document says exactly what the API accepts and answers: plain operation
ids, the sort columns and statuses as enums, parameters that are text (never null), every
error status with the envelope, links from what a response returns to what takes it, and
an `Allow` header that lists every method a path serves."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from tests.factories import node
from tests.runs import API, publish, start
from towpath.api.openapi import NO_NUL, check_operation_ids
from towpath.api.paging import sort_values
from towpath.services import inbox as inbox_service
from towpath.storage import agents as agent_queries
from towpath.storage import (
    api_keys,
    audit,
    event_triggers,
    members,
    runs,
    schedules,
    secrets_store,
    subscriptions,
    workflows,
)
from towpath.storage import groups as group_queries

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

OPERATIONS = {
    "list_workflows", "create_workflow", "get_workflow", "update_workflow", "delete_workflow",
    "publish_workflow", "validate_workflow", "duplicate_workflow", "list_workflow_versions",
    "start_run", "list_runs", "get_run", "list_run_steps", "list_run_events", "list_run_logs",
    "resume_run", "approve_run", "clarify_run", "cancel_run", "retry_run", "cancel_run_tree",
    "pause_workflow", "unpause_workflow",
    "pause_run", "unpause_run",
    "get_workflow_stats", "get_run_metrics", "post_event", "list_step_types",
    "list_api_keys", "create_api_key", "get_api_key", "revoke_api_key",
    "list_members", "add_member", "get_member", "change_member_role", "remove_member",
    "list_audit_entries", "create_stream_token", "stream_run",
    "list_webhook_triggers", "create_webhook_trigger", "get_webhook_trigger",
    "delete_webhook_trigger", "rotate_webhook_secret", "list_webhook_deliveries",
    "start_run_from_webhook", "deliver_webhook",
    "put_schedule_trigger", "list_schedules", "create_schedule", "get_schedule",
    "update_schedule", "delete_schedule", "pause_schedule", "unpause_schedule",
    "trigger_schedule", "backfill_schedule", "list_schedule_fires",
    "list_subscriptions", "create_subscription", "get_subscription", "update_subscription",
    "delete_subscription", "rotate_subscription_secret", "list_subscription_deliveries",
    "list_event_triggers", "create_event_trigger", "get_event_trigger", "delete_event_trigger",
    "list_secrets", "create_secret", "get_secret", "rotate_secret", "delete_secret",
    "get_health", "get_readiness", "get_metrics",
    "list_agents", "create_agent", "get_agent", "replace_agent", "update_agent", "delete_agent",
    "check_agent_health", "complete_agent_step", "fail_agent_step", "agent_step_heartbeat",
    "list_queues", "get_queue", "poll_queue", "heartbeat_task", "complete_task", "fail_task",
    "delete_run", "list_retention_policies", "set_workspace_retention", "set_workflow_retention",
    "archive_workflow", "unarchive_workflow",
}  # fmt: skip
OPERATIONS |= {
    "list_groups", "create_group", "get_group", "set_group_members", "delete_group",
    "list_inbox", "count_inbox", "get_me",
}  # fmt: skip
# The executions profile (founding document 002).
EXECUTIONS = {
    "start_execution", "list_executions", "get_execution", "get_workflow_execution",
    "resume_execution", "cancel_execution", "submit_acceptance", "submit_clarification",
}  # fmt: skip
OPERATIONS |= EXECUTIONS
SORTED_BY = {
    "list_workflows": workflows.SORTABLE,
    "list_workflow_versions": workflows.SORTABLE,
    "list_runs": runs.SORTABLE,
    "list_api_keys": api_keys.SORTABLE,
    "list_members": members.SORTABLE,
    "list_audit_entries": audit.SORTABLE,
    "list_schedules": schedules.SORTABLE,
    "list_event_triggers": event_triggers.SORTABLE,
    "get_run_metrics": ("created_at", "step_id", "duration_seconds"),
    "list_subscriptions": subscriptions.SORTABLE,
    "list_agents": agent_queries.SORTABLE,
    "list_secrets": secrets_store.SORTABLE,
}
SORTED_BY["list_groups"] = group_queries.SORTABLE
SORTED_BY["list_inbox"] = inbox_service.SORTABLE
# The founding documents' own paths (towpath.api.profiles).
OPERATIONS |= {"trigger_workflow_run", "list_workflow_runs", "execute_workflow"}
SORTED_BY["list_workflow_runs"] = runs.SORTABLE
ENVELOPE = {"$ref": "#/components/schemas/ErrorResponse"}
# Document 000's front-end paths add FastAPI's `detail` to the envelope.
DETAILED = {"trigger_workflow_run", "list_workflow_runs"}
DETAILED_ENVELOPE = {"$ref": "#/components/schemas/DetailedError"}


def operations(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    return {
        op["operationId"]: (method.upper(), path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }


def schemas_in(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value, *(s for child in value.values() for s in schemas_in(child))]
    if isinstance(value, list):
        return [s for child in value for s in schemas_in(child)]
    return []


@pytest.fixture
def spec(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def test_operations_have_plain_unique_names(spec: dict[str, Any]) -> None:
    found = operations(spec)

    assert set(found) == OPERATIONS
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", name) for name in found)
    assert len(found) == sum(len(item) for item in spec["paths"].values())


def test_two_operations_of_one_name_are_refused() -> None:
    document = {
        "paths": {"/a": {"get": {"operationId": "x"}}, "/b": {"post": {"operationId": "x"}}}
    }

    with pytest.raises(RuntimeError, match="operations share a name: x"):
        check_operation_ids(document)


def test_parameters_are_text_or_absent_never_null(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec).values():
        for parameter in op.get("parameters", []):
            types = [s.get("type") for s in schemas_in(parameter["schema"])]
            assert "null" not in types, (method, path, parameter["name"])


@pytest.mark.parametrize("operation", sorted(SORTED_BY))
def test_sort_lists_exactly_the_columns(spec: dict[str, Any], operation: str) -> None:
    _, _, op = operations(spec)[operation]
    sort = next(p for p in op["parameters"] if p["name"] == "sort")

    assert sort["schema"]["enum"] == list(sort_values(SORTED_BY[operation]))
    assert sort["schema"]["default"] in sort["schema"]["enum"]


async def test_every_listed_sort_is_accepted(
    client: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    one_step = {"nodes": [node("a", "transform", {"output": {"x": 1}})], "edges": []}
    run = await start(client, await publish(client, one_step))
    ids = {"workflow_id": run["workflow_id"], "run_id": run["id"]}
    for operation in sorted(SORTED_BY):
        _, path, op = operations(spec)[operation]
        sort = next(p for p in op["parameters"] if p["name"] == "sort")
        url = path.format(**ids)
        for value in sort["schema"]["enum"]:
            response = await client.get(url, params={"sort": value})
            assert response.status_code == 200, (operation, value, response.text)
        refused = await client.get(url, params={"sort": "definition"})
        assert refused.status_code == 422, (operation, refused.text)


def test_statuses_and_lists_are_enums(spec: dict[str, Any]) -> None:
    _, _, listed = operations(spec)["list_runs"]
    status = next(p for p in listed["parameters"] if p["name"] == "status")
    run = spec["components"]["schemas"]["RunResponse"]["properties"]["status"]

    assert set(status["schema"]["enum"]) == {
        "pending", "running", "waiting", "completed", "failed", "cancelled",
        "paused",
    }  # fmt: skip
    assert run["enum"] == status["schema"]["enum"]
    assert listed["responses"]["200"]["headers"]["X-Total-Count"]["schema"]["type"] == "integer"


def test_every_error_status_is_documented_with_the_envelope(spec: dict[str, Any]) -> None:
    for name, (_, path, op) in operations(spec).items():
        codes = set(op["responses"])
        assert "4XX" not in codes and "default" not in codes, name
        for code in codes - {"200", "201", "204"}:
            body = op["responses"][code]["content"]["application/json"]["schema"]
            assert body == (DETAILED_ENVELOPE if name in DETAILED else ENVELOPE), (name, code)
        if path.startswith(API):
            assert {"401", "403", "422", "429", "500"} <= codes, name
        if "{" in path:
            assert "404" in codes, name
        if "requestBody" in op:
            assert {"400", "413", "415"} <= codes, name


def test_links_lead_from_what_is_returned_to_what_takes_it(spec: dict[str, Any]) -> None:
    found = operations(spec)

    started = found["start_run"][2]["responses"]["201"]["links"]
    created = found["create_workflow"][2]["responses"]["201"]["links"]

    assert {"get_run", "approve_run", "cancel_run", "retry_run", "list_run_events"} <= set(started)
    assert {"publish_workflow", "start_run", "get_workflow"} <= set(created)
    for name, (_, _, op) in found.items():
        for response in op["responses"].values():
            for link in response.get("links", {}).values():
                _, path, target = found[link["operationId"]]
                for parameter, expression in link["parameters"].items():
                    assert f"{{{parameter}}}" in path, (name, link)
                    assert expression == "$response.body#/id"
                    assert any(p["name"] == parameter for p in target["parameters"])


def _bounds_by_other_names(node: Any, at: str = "") -> list[str]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("ge", "le", "gt", "lt") and not isinstance(value, dict):
                found.append(f"{at}/{key}")
            found += _bounds_by_other_names(value, f"{at}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _bounds_by_other_names(value, f"{at}/{index}")
    return found


def test_bounds_are_named_as_json_schema_names_them(spec: dict[str, Any]) -> None:
    # `ge` or `le` in the document is a bound no client or validator holds to.
    assert _bounds_by_other_names(spec) == []
    days = spec["components"]["schemas"]["RetentionInput"]["properties"]["finished_runs_days"]
    assert days["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 3650}


def test_text_without_nul_is_part_of_the_contract(spec: dict[str, Any]) -> None:
    created = spec["components"]["schemas"]["WorkflowCreate"]["properties"]
    key = next(
        p for p in operations(spec)["create_workflow"][2]["parameters"]
        if p["name"] == "x-idempotency-key"
    )  # fmt: skip

    assert created["name"]["pattern"] == NO_NUL
    assert "NUL" in spec["info"]["description"]
    assert key["schema"]["pattern"] == "^[\\x21-\\x7e]{1,255}$"
    assert key["schema"]["maxLength"] == 255


def test_a_definition_is_bounded_by_the_servers_limits(spec: dict[str, Any]) -> None:
    definition = spec["components"]["schemas"]["WorkflowDefinition"]["properties"]

    assert definition["nodes"]["maxItems"] == 500
    assert definition["edges"]["maxItems"] == 2000


async def test_options_and_405_list_every_method_of_the_path(
    client: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    for path, item in spec["paths"].items():
        url = re.sub(r"\{[^}]+\}", "some-id", path)
        documented = {method.upper() for method in item} | {"OPTIONS"}

        answer = await client.options(url)

        assert answer.status_code == 204, (path, answer.text)
        assert set(answer.headers["Allow"].split(", ")) == documented, path

    refused = await client.patch(f"{API}/workflows/some-id")
    assert refused.status_code == 405
    assert refused.headers["Allow"] == "DELETE, GET, OPTIONS, PUT"
    assert refused.json()["details"]["allowed"] == ["DELETE", "GET", "OPTIONS", "PUT"]


def test_the_executions_profile_says_400_where_towpath_says_422(spec: dict[str, Any]) -> None:
    for name in EXECUTIONS:
        _, _, op = operations(spec)[name]
        assert op["tags"] == ["profile: executions"], name
        assert "not valid" in op["responses"]["400"]["description"], name
        # Only a NUL character is refused with 422, before the route reads the request.
        assert "NUL" in op["responses"]["422"]["description"], name


# Document 004's profile (towpath.api.profiles.tasks).
OPERATIONS |= {
    "list_team_tasks", "create_team_task", "get_team_task", "update_team_task",
    "delete_team_task", "list_task_runs", "start_task_run", "get_task_run", "update_task_run",
    "delete_task_run", "approve_task_run", "list_task_run_logs", "list_recorded_metrics",
    "get_recorded_metric", "summarize_task_metrics", "summarize_run_metrics",
}  # fmt: skip
