"""Agent registry use cases: register, list, read, replace, change, delete, check health."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from towpath.domain.clock import utcnow
from towpath.domain.errors import Unprocessable
from towpath.services.audit import Change, record
from towpath.services.idempotency import KEYS_KEPT, fingerprint, made_once
from towpath.steps.destinations import destination_refusal
from towpath.storage import agents as queries
from towpath.storage.agents import AgentNameTaken
from towpath.storage.models import Agent

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.auth.principal import Principal
    from towpath.services.agent_health import AgentHealth, HealthCheck
    from towpath.services.idempotency import IdempotencyPolicy, IdempotencyRequest
    from towpath.storage.database import Database
    from towpath.storage.pagination import Page, PageRequest


class AgentUrlRefused(Unprocessable):
    code = "AGENT_URL_REFUSED"


@dataclass(frozen=True)
class AgentSpec:
    """Every field an agent has; a PATCH names the ones it changes."""

    name: str
    url: str
    kind: str = "http"
    description: str = ""
    health_url: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    capabilities: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    timeout_seconds: float = 30.0
    retry: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True


@dataclass(frozen=True)
class AgentFilter:
    kind: str | None = None
    enabled: bool | None = None
    capability: str | None = None
    name: str | None = None


def _summary(agent: Agent) -> dict[str, Any]:
    """What the audit log keeps of an agent: header names, never their values; its config
    by digest (it may be large, and it is the agent's to read)."""
    return {
        "name": agent.name,
        "kind": agent.kind,
        "description": agent.description,
        "config_sha256": fingerprint("config", agent.config),
        "url": agent.url,
        "health_url": agent.health_url,
        "capabilities": list(agent.capabilities),
        "headers": sorted(agent.headers),
        "timeout_seconds": agent.timeout_seconds,
        "retry": dict(agent.retry),
        "enabled": agent.enabled,
    }


async def _check_urls(health: AgentHealth, spec: AgentSpec) -> None:
    for name, url in (("url", spec.url), ("health_url", spec.health_url)):
        if url is None:
            continue
        refused = await destination_refusal(health.policy, url)
        if refused is not None:
            raise AgentUrlRefused(refused, details={"field": name, "url": url})


async def _claim_name(
    session: AsyncSession, workspace_id: str, name: str, agent_id: str | None
) -> None:
    if await queries.name_taken(session, workspace_id, name, agent_id):
        raise AgentNameTaken(name)


async def _flush(session: AsyncSession, name: str) -> None:
    try:
        await session.flush()
    except IntegrityError as error:
        # Two registrations of one name at once: the unique index keeps one.
        raise AgentNameTaken(name) from error


async def create(
    db: Database,
    caller: Principal,
    health: AgentHealth,
    spec: AgentSpec,
    key: IdempotencyRequest | None = None,
    policy: IdempotencyPolicy = KEYS_KEPT,
) -> tuple[Agent, bool]:
    """The new agent; the bool says it was an earlier request's, by its key."""
    await _check_urls(health, spec)

    async def make(session: AsyncSession) -> str:
        await _claim_name(session, caller.workspace_id, spec.name, None)
        agent = Agent(workspace_id=caller.workspace_id, created_by=caller.subject, **asdict(spec))
        session.add(agent)
        await _flush(session, spec.name)
        await record(
            session, caller, Change("agent.create", "agent", agent.id, None, _summary(agent))
        )
        return agent.id

    made = await made_once(db, caller, key, asdict(spec), policy, make)
    return await get(db, caller, made.resource_id), made.replayed


async def list_agents(
    db: Database, caller: Principal, page: PageRequest, found: AgentFilter
) -> Page[Agent]:
    async with db.read() as session:
        return await queries.list_agents(session, caller.workspace_id, page, **asdict(found))


async def get(db: Database, caller: Principal, agent_id: str) -> Agent:
    async with db.read() as session:
        return await queries.get_agent(session, caller.workspace_id, agent_id)


async def update(
    db: Database,
    caller: Principal,
    health: AgentHealth,
    agent_id: str,
    changes: dict[str, Any],
    *,
    action: str = "agent.update",
) -> Agent:
    """Set the fields `changes` names (all of them for a PUT, some for a PATCH)."""
    async with db.read() as session:
        current = await queries.get_agent(session, caller.workspace_id, agent_id)
        merged = AgentSpec(**{**_fields(current), **changes})
    if merged == AgentSpec(**_fields(current)):
        # Nothing would change: nothing is written, audited or re-checked.
        return current
    await _check_urls(health, merged)
    async with db.transaction() as session:
        agent = await queries.get_agent(session, caller.workspace_id, agent_id, for_update=True)
        before = _summary(agent)
        if merged.name != agent.name:
            await _claim_name(session, caller.workspace_id, merged.name, agent_id)
        for name, value in asdict(merged).items():
            setattr(agent, name, value)
        agent.updated_at = utcnow()
        await _flush(session, merged.name)
        await record(session, caller, Change(action, "agent", agent_id, before, _summary(agent)))
    return agent


def _fields(agent: Agent) -> dict[str, Any]:
    return {name: getattr(agent, name) for name in AgentSpec.__dataclass_fields__}


async def delete(db: Database, caller: Principal, health: AgentHealth, agent_id: str) -> None:
    """Soft: the row stays (runs name it), its name is free again, steps no longer find it."""
    async with db.transaction() as session:
        agent = await queries.get_agent(session, caller.workspace_id, agent_id, for_update=True)
        before = _summary(agent)
        agent.deleted_at = utcnow()
        await session.flush()
        await record(session, caller, Change("agent.delete", "agent", agent_id, before, None))
    health.forget(agent_id)


async def check_health(
    db: Database, caller: Principal, health: AgentHealth, agent_id: str
) -> tuple[HealthCheck, list[HealthCheck]]:
    """Call the agent's health URL now; the check and the ones kept before it."""
    agent = await get(db, caller, agent_id)
    checked = await health.check(agent)
    return checked, health.recent(agent_id)
