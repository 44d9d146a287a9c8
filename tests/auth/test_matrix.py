"""Every route under /api/v1 against every kind of caller: none, a bad credential, an
expired or revoked one, each role, and an admin of another workspace."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator  # noqa: TC003 - a fixture's return type
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from tests.factories import node
from tests.runs import publish, start, wait_for
from towpath.api.deps import Viewer
from towpath.api.errors import install_error_handlers
from towpath.auth.principal import ROLES, Principal
from towpath.domain.clock import utcnow
from towpath.services.api_keys import issue_workspace_key, revoke_key
from towpath.services.members import add_member

# The least role each route needs. A route missing here fails the test: new routes
# must say who may call them.
POLICY = {
    ("GET", "/api/v1/workflows"): "viewer",
    ("POST", "/api/v1/workflows"): "editor",
    ("GET", "/api/v1/workflows/{workflow_id}"): "viewer",
    ("PUT", "/api/v1/workflows/{workflow_id}"): "editor",
    ("DELETE", "/api/v1/workflows/{workflow_id}"): "editor",
    ("POST", "/api/v1/workflows/{workflow_id}/publish"): "editor",
    ("POST", "/api/v1/workflows/{workflow_id}/validate"): "viewer",
    ("POST", "/api/v1/workflows/{workflow_id}/duplicate"): "editor",
    ("GET", "/api/v1/workflows/{workflow_id}/versions"): "viewer",
    ("POST", "/api/v1/workflows/{workflow_id}/pause"): "editor",
    ("POST", "/api/v1/workflows/{workflow_id}/unpause"): "editor",
    ("GET", "/api/v1/workflows/{workflow_id}/stats"): "viewer",
    ("POST", "/api/v1/workflows/{workflow_id}/run"): "operator",
    ("GET", "/api/v1/runs"): "viewer",
    ("GET", "/api/v1/runs/{run_id}"): "viewer",
    ("GET", "/api/v1/runs/{run_id}/steps"): "viewer",
    ("GET", "/api/v1/runs/{run_id}/events"): "viewer",
    ("GET", "/api/v1/runs/{run_id}/logs"): "viewer",
    ("GET", "/api/v1/runs/{run_id}/metrics"): "viewer",
    ("GET", "/api/v1/runs/{run_id}/stream"): "viewer",
    ("POST", "/api/v1/runs/{run_id}/resume"): "operator",
    ("POST", "/api/v1/runs/{run_id}/approve"): "operator",
    ("POST", "/api/v1/runs/{run_id}/clarify"): "operator",
    ("POST", "/api/v1/runs/{run_id}/cancel"): "operator",
    ("POST", "/api/v1/runs/{run_id}/retry"): "operator",
    ("POST", "/api/v1/runs/{run_id}/cancel-tree"): "operator",
    ("POST", "/api/v1/runs/{run_id}/pause"): "operator",
    ("POST", "/api/v1/runs/{run_id}/unpause"): "operator",
    ("POST", "/api/v1/events"): "operator",
    ("POST", "/api/v1/stream-tokens"): "viewer",
    ("GET", "/api/v1/catalog/steps"): "viewer",
    ("GET", "/api/v1/api-keys"): "admin",
    ("POST", "/api/v1/api-keys"): "admin",
    ("GET", "/api/v1/api-keys/{key_id}"): "admin",
    ("DELETE", "/api/v1/api-keys/{key_id}"): "admin",
    ("GET", "/api/v1/members"): "admin",
    ("POST", "/api/v1/members"): "admin",
    ("GET", "/api/v1/members/{member_id}"): "admin",
    ("PUT", "/api/v1/members/{member_id}"): "admin",
    ("DELETE", "/api/v1/members/{member_id}"): "admin",
    ("GET", "/api/v1/audit"): "admin",
    ("GET", "/api/v1/triggers/webhooks"): "viewer",
    ("POST", "/api/v1/triggers/webhooks"): "editor",
    ("GET", "/api/v1/triggers/webhooks/{trigger_id}"): "viewer",
    ("DELETE", "/api/v1/triggers/webhooks/{trigger_id}"): "editor",
    ("POST", "/api/v1/triggers/webhooks/{trigger_id}/rotate-secret"): "editor",
    ("GET", "/api/v1/triggers/webhooks/{trigger_id}/deliveries"): "viewer",
    ("GET", "/api/v1/triggers/events"): "viewer",
    ("POST", "/api/v1/triggers/events"): "editor",
    ("GET", "/api/v1/triggers/events/{trigger_id}"): "viewer",
    ("DELETE", "/api/v1/triggers/events/{trigger_id}"): "editor",
    ("POST", "/api/v1/triggers/webhook/{workflow_id}"): "operator",
    ("GET", "/api/v1/subscriptions"): "viewer",
    ("POST", "/api/v1/subscriptions"): "editor",
    ("GET", "/api/v1/subscriptions/{subscription_id}"): "viewer",
    ("PATCH", "/api/v1/subscriptions/{subscription_id}"): "editor",
    ("DELETE", "/api/v1/subscriptions/{subscription_id}"): "editor",
    ("POST", "/api/v1/subscriptions/{subscription_id}/rotate-secret"): "editor",
    ("GET", "/api/v1/subscriptions/{subscription_id}/deliveries"): "viewer",
    ("POST", "/api/v1/triggers/schedule"): "editor",
    ("GET", "/api/v1/schedules"): "viewer",
    ("POST", "/api/v1/schedules"): "editor",
    ("GET", "/api/v1/schedules/{schedule_id}"): "viewer",
    ("PUT", "/api/v1/schedules/{schedule_id}"): "editor",
    ("DELETE", "/api/v1/schedules/{schedule_id}"): "editor",
    ("POST", "/api/v1/schedules/{schedule_id}/pause"): "editor",
    ("POST", "/api/v1/schedules/{schedule_id}/unpause"): "editor",
    ("POST", "/api/v1/schedules/{schedule_id}/trigger"): "operator",
    ("POST", "/api/v1/schedules/{schedule_id}/backfill"): "operator",
    ("GET", "/api/v1/schedules/{schedule_id}/fires"): "viewer",
    ("GET", "/api/v1/agents"): "viewer",
    ("POST", "/api/v1/agents"): "editor",
    ("GET", "/api/v1/agents/{agent_id}"): "viewer",
    ("PUT", "/api/v1/agents/{agent_id}"): "editor",
    ("PATCH", "/api/v1/agents/{agent_id}"): "editor",
    ("DELETE", "/api/v1/agents/{agent_id}"): "editor",
    ("GET", "/api/v1/agents/{agent_id}/health"): "viewer",
    ("GET", "/api/v1/secrets"): "viewer",
    ("POST", "/api/v1/secrets"): "editor",
    ("GET", "/api/v1/secrets/{name}"): "viewer",
    ("POST", "/api/v1/secrets/{name}/rotate"): "editor",
    ("DELETE", "/api/v1/secrets/{name}"): "editor",
    ("GET", "/api/v1/queues"): "viewer",
    ("GET", "/api/v1/queues/{name}"): "viewer",
    ("POST", "/api/v1/queues/{name}/poll"): "operator",
    ("POST", "/api/v1/queues/{name}/tasks/{task_id}/heartbeat"): "operator",
    ("POST", "/api/v1/queues/{name}/tasks/{task_id}/complete"): "operator",
    ("POST", "/api/v1/queues/{name}/tasks/{task_id}/fail"): "operator",
    ("DELETE", "/api/v1/runs/{run_id}"): "admin",
    ("GET", "/api/v1/retention"): "viewer",
    ("PUT", "/api/v1/retention"): "admin",
    ("PUT", "/api/v1/workflows/{workflow_id}/retention"): "admin",
    ("POST", "/api/v1/workflows/{workflow_id}/archive"): "editor",
    ("POST", "/api/v1/workflows/{workflow_id}/unarchive"): "editor",
    ("GET", "/api/v1/groups"): "viewer",
    ("POST", "/api/v1/groups"): "admin",
    ("GET", "/api/v1/groups/{name}"): "viewer",
    ("PUT", "/api/v1/groups/{name}"): "admin",
    ("DELETE", "/api/v1/groups/{name}"): "admin",
    ("GET", "/api/v1/inbox"): "viewer",
    ("GET", "/api/v1/inbox/count"): "viewer",
    ("GET", "/api/v1/me"): "viewer",
    # The executions profile (founding document 002): the same roles as the run routes.
    ("POST", "/api/v1/workflows/{workflow_id}/start"): "operator",
    ("GET", "/api/v1/executions"): "viewer",
    ("GET", "/api/v1/executions/{execution_id}"): "viewer",
    ("GET", "/api/v1/workflows/{workflow_id}/executions/{execution_id}"): "viewer",
    ("POST", "/api/v1/executions/{execution_id}/resume"): "operator",
    ("POST", "/api/v1/executions/{execution_id}/cancel"): "operator",
    ("POST", "/api/v1/executions/{execution_id}/acceptance"): "operator",
    ("POST", "/api/v1/executions/{execution_id}/clarification"): "operator",
}
# The founding documents' own paths (towpath.api.profiles), as the routes they stand for.
POLICY |= {
    ("POST", "/api/v1/runs/workflow/{workflow_id}/trigger"): "operator",
    ("GET", "/api/v1/runs/workflow/{workflow_id}"): "viewer",
    ("POST", "/api/v1/workflows/{workflow_id}/execute"): "operator",
}
# Routes whose request proves itself with a signature instead of a credential
# (tests/triggers covers them).
SIGNED = {
    ("POST", "/api/v1/hooks/{hook_id}"),
    # An agent's callbacks prove themselves with the attempt's token (tests/agents).
    ("POST", "/api/v1/runs/{run_id}/steps/{step_id}/complete"),
    ("POST", "/api/v1/runs/{run_id}/steps/{step_id}/fail"),
    ("POST", "/api/v1/runs/{run_id}/steps/{step_id}/heartbeat"),
}
MISSING = "00000000-0000-7000-8000-000000000000"
# A queue is named, never looked up: any name answers (no tasks, figures of zero).
NAMED = {("GET", "/api/v1/queues/{name}"), ("POST", "/api/v1/queues/{name}/poll")}
# The caller's own inbox count: every caller has one ({"count": 0} here).
NAMED |= {("GET", "/api/v1/inbox/count")}
# Who the caller is: every caller is someone (tests/api/test_me.py checks the answer).
NAMED |= {("GET", "/api/v1/me")}
# Valid bodies for the routes of one resource, so that an allowed call reaches the lookup
# (and its 404); routes without an id get `{}` and answer 422, creating nothing.
BODIES = {
    "/api/v1/workflows/{workflow_id}/run": {"input": {}},
    "/api/v1/runs/{run_id}/approve": {"approved": True},
    "/api/v1/runs/{run_id}/clarify": {"answers": {}},
    "/api/v1/runs/{run_id}/resume": {"data": {}},
    "/api/v1/members/{member_id}": {"role": "viewer"},
    "/api/v1/schedules/{schedule_id}": {
        "name": "s",
        "workflow_id": MISSING,
        "spec": {"cron": ["0 9 * * *"]},
    },
    "/api/v1/agents/{agent_id}": {"name": "a", "url": "https://agent.example.com/"},
    "/api/v1/schedules/{schedule_id}/backfill": {
        "start": "2026-11-02T00:00:00Z",
        "end": "2026-11-03T00:00:00Z",
    },
    "/api/v1/secrets/{name}/rotate": {"value": "v"},
    "/api/v1/queues/{name}/poll": {"worker_id": "w", "wait_seconds": 0},
    "/api/v1/queues/{name}/tasks/{task_id}/heartbeat": {"lease_token": "1.t"},
    "/api/v1/queues/{name}/tasks/{task_id}/complete": {"lease_token": "1.t"},
    "/api/v1/queues/{name}/tasks/{task_id}/fail": {"lease_token": "1.t", "error": "e"},
    "/api/v1/workflows/{workflow_id}/retention": {"finished_runs_days": 7},
    "/api/v1/groups/{name}": {"members": ["user:a"]},
    "/api/v1/workflows/{workflow_id}/start": {"project_id": "p"},
    "/api/v1/executions/{execution_id}/acceptance": {"accepted": True},
    "/api/v1/executions/{execution_id}/clarification": {"answers": {}},
}
_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Call:
    method: str
    template: str

    def path(self, ids: dict[str, str]) -> str:
        return _PARAM.sub(lambda m: ids.get(m.group(1), MISSING), self.template)

    async def send(
        self, client: httpx.AsyncClient, headers: dict[str, str], ids: dict[str, str] | None = None
    ) -> httpx.Response:
        body = BODIES.get(self.template, {}) if self.method in ("POST", "PUT", "PATCH") else None
        return await client.request(self.method, self.path(ids or {}), json=body, headers=headers)


def _calls(app: FastAPI) -> list[Call]:
    paths = app.openapi()["paths"]
    found = [
        Call(method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/v1")
        for method in operations
        if (method.upper(), path) not in SIGNED
    ]
    assert found, "the schema lists no route"
    return found


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the test app that sends no credential of its own."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://towpath.test") as c:
        yield c


@dataclass(frozen=True)
class Callers:
    roles: dict[str, dict[str, str]]
    expired: dict[str, str]
    revoked: dict[str, str]
    other_workspace: dict[str, str]
    # Real resources of the test workspace, by path parameter.
    ids: dict[str, str]


@pytest.fixture
async def callers(app: FastAPI, client: httpx.AsyncClient) -> Callers:
    db = app.state.db
    roles = {role: _bearer((await issue_workspace_key(db, role, role)).plaintext) for role in ROLES}
    past = utcnow() - timedelta(minutes=1)
    expired = await issue_workspace_key(db, "expired", "admin", expires_at=past)
    revoked = await issue_workspace_key(db, "revoked", "admin")
    admin = Principal("test", revoked.key.workspace_id, "admin")
    await revoke_key(db, admin, revoked.key.id, app.state.access_notices)
    other = await issue_workspace_key(db, "theirs", "admin", workspace="other-team")
    member, _ = await add_member(db, admin, "user-1", "viewer")
    definition = {"nodes": [node("ask", "approval", {"message": "ok?"})], "edges": []}
    workflow_id = await publish(client, definition)
    run = await start(client, workflow_id)
    await wait_for(client, run["id"], "waiting")
    return Callers(
        roles=roles,
        expired=_bearer(expired.plaintext),
        revoked=_bearer(revoked.plaintext),
        other_workspace=_bearer(other.plaintext),
        ids={
            "workflow_id": workflow_id,
            "run_id": run["id"],
            "key_id": expired.key.id,
            "member_id": member.id,
            "execution_id": run["id"],
        },
    )


def test_every_route_has_a_policy(app: FastAPI) -> None:
    assert {(c.method, c.template) for c in _calls(app)} == set(POLICY)


async def test_a_missing_or_unusable_credential_is_a_401_everywhere(
    app: FastAPI, anonymous: httpx.AsyncClient, callers: Callers
) -> None:
    unusable = {
        "none": {},
        "malformed": _bearer("tp_not-a-key"),
        "unknown key": _bearer("tp_aaaaaaaaaaaa_" + "A" * 43),
        "not a credential": _bearer("hello"),
        "not a JWT we accept": _bearer("a.b.c"),
        "expired": callers.expired,
        "revoked": callers.revoked,
        "X-API-Key, unknown": {"X-API-Key": "tp_bbbbbbbbbbbb_" + "B" * 43},
    }
    for call in _calls(app):
        for name, headers in unusable.items():
            response = await call.send(anonymous, headers, callers.ids)
            assert response.status_code == 401, (call, name, response.text)
            assert response.json()["error_code"] == "UNAUTHENTICATED"
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_each_role_reaches_what_it_may_and_gets_403_elsewhere(
    app: FastAPI, anonymous: httpx.AsyncClient, callers: Callers
) -> None:
    for call in _calls(app):
        needed = POLICY[(call.method, call.template)]
        for role, headers in callers.roles.items():
            # Missing ids and empty bodies: an allowed call ends in 404 or 422, changing nothing.
            response = await call.send(anonymous, headers)
            if ROLES.index(role) >= ROLES.index(needed):
                assert response.status_code not in (401, 403), (call, role, response.text)
                if (call.method, call.template) in NAMED:
                    assert response.status_code == 200, (call, role, response.text)
                elif "{" in call.template:
                    assert response.status_code == 404, (call, role, response.text)
            else:
                assert response.status_code == 403, (call, role, response.text)
                body = response.json()
                assert body["error_code"] == "FORBIDDEN"
                assert body["details"] == {"required_role": needed, "role": role}


async def test_another_workspaces_admin_finds_nothing_of_ours(
    app: FastAPI, anonymous: httpx.AsyncClient, callers: Callers
) -> None:
    for call in _calls(app):
        response = await call.send(anonymous, callers.other_workspace, callers.ids)
        if (call.method, call.template) in NAMED:
            assert response.status_code == 200, (call, response.text)
            assert response.json().get("tasks", []) == [], call
        elif "{" in call.template:
            assert response.status_code == 404, (call, response.text)
        elif call.template == "/api/v1/stream-tokens":
            # A ticket for the caller's own workspace's streams; nothing is stored.
            assert response.status_code == 201, (call, response.text)
        else:
            assert response.status_code in (200, 422), (call, response.text)
            if call.method == "GET":
                seen = {item.get("id") for item in response.json()}
                assert not seen & set(callers.ids.values()), call


async def test_a_role_check_where_nothing_authenticates_refuses() -> None:
    """A role check reads the caller the router's authentication left; a route included
    without that authentication answers 401, never serves an unknown caller."""
    app = FastAPI()
    unguarded = APIRouter()

    @unguarded.get("/api/v1/unguarded")
    async def unguarded_route(caller: Viewer) -> str:
        return caller.subject

    app.include_router(unguarded)
    install_error_handlers(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/api/v1/unguarded", headers={"X-API-Key": "tp_anything"})

    assert response.status_code == 401
    assert response.json()["error_code"] == "UNAUTHENTICATED"
