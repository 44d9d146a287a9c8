"""The agents registry of the caller's workspace: editors manage agents, viewers read them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from towpath.api.deps import DB, Editor, Idempotency, Rules, Viewer
from towpath.api.paging import paging
from towpath.api.responses import LISTED, mark_created, set_total
from towpath.api.schemas.agents import (
    AgentCreate,
    AgentHealthResponse,
    AgentPatch,
    AgentResponse,
    agent_response,
    health_response,
)
from towpath.api.schemas.errors import WITH_BODY, Responses, errors
from towpath.api.schemas.links import created_or_replayed
from towpath.services import agents as service
from towpath.services.agent_health import AgentHealth
from towpath.services.agents import AgentFilter, AgentSpec
from towpath.storage.agents import SORTABLE
from towpath.storage.pagination import PageRequest

router = APIRouter(prefix="/agents", tags=["agents"])
CREATED: Responses = {
    **created_or_replayed(
        "The new agent",
        "The agent an earlier request with this idempotency key made",
        AgentResponse,
        {},
    ),
    **errors(409),
}
AgentPages = Annotated[PageRequest, paging(SORTABLE, "-created_at")]


def _health(request: Request) -> AgentHealth:
    found: AgentHealth = request.app.state.agent_health
    return found


Health = Annotated[AgentHealth, Depends(_health)]


def _filter(
    kind: Annotated[str | None, Query(max_length=64)] = None,
    enabled: bool | None = None,
    capability: Annotated[str | None, Query(max_length=100)] = None,
    name: Annotated[str | None, Query(max_length=200, description="Part of the name")] = None,
) -> AgentFilter:
    return AgentFilter(kind=kind, enabled=enabled, capability=capability, name=name)


@router.get("", responses=LISTED)
async def list_agents(
    db: DB,
    caller: Viewer,
    health: Health,
    page: AgentPages,
    found: Annotated[AgentFilter, Depends(_filter)],
    response: Response,
) -> list[AgentResponse]:
    agents = await service.list_agents(db, caller, page, found)
    set_total(response, agents)
    return [agent_response(agent, health.recent(agent.id)) for agent in agents.items]


@router.post("", status_code=201, responses={**CREATED, **WITH_BODY})
async def create_agent(
    body: AgentCreate,
    db: DB,
    caller: Editor,
    health: Health,
    rules: Rules,
    key: Idempotency,
    response: Response,
) -> AgentResponse:
    """Register an agent; a name already used in the workspace is a 409."""
    spec = AgentSpec(**body.stored())
    agent, replayed = await service.create(db, caller, health, spec, key, rules.idempotency)
    mark_created(response, replayed)
    return agent_response(agent)


@router.get("/{agent_id}", responses=errors(404))
async def get_agent(agent_id: str, db: DB, caller: Viewer, health: Health) -> AgentResponse:
    return agent_response(await service.get(db, caller, agent_id), health.recent(agent_id))


@router.put("/{agent_id}", responses={**WITH_BODY, **errors(404, 409)})
async def replace_agent(
    agent_id: str, body: AgentCreate, db: DB, caller: Editor, health: Health
) -> AgentResponse:
    """Set every field; one left out goes back to its default."""
    agent = await service.update(db, caller, health, agent_id, body.stored())
    return agent_response(agent, health.recent(agent_id))


@router.patch("/{agent_id}", responses={**WITH_BODY, **errors(404, 409)})
async def update_agent(
    agent_id: str, body: AgentPatch, db: DB, caller: Editor, health: Health
) -> AgentResponse:
    """Change the fields given."""
    agent = await service.update(db, caller, health, agent_id, body.changes())
    return agent_response(agent, health.recent(agent_id))


@router.delete("/{agent_id}", status_code=204, responses=errors(404))
async def delete_agent(agent_id: str, db: DB, caller: Editor, health: Health) -> Response:
    """Soft delete: steps no longer find it and its name is free; runs keep naming it."""
    await service.delete(db, caller, health, agent_id)
    return Response(status_code=204)


@router.get("/{agent_id}/health", responses=errors(404))
async def check_agent_health(
    agent_id: str, db: DB, caller: Viewer, health: Health
) -> AgentHealthResponse:
    """Call the agent's health URL now, within its timeout: up or down, status, latency."""
    checked, recent = await service.check_health(db, caller, health, agent_id)
    return health_response(checked, recent)
