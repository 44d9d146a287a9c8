"""Registered agents: the rows, their queries, and the lookup `agent` steps use."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select

from towpath.domain.agents import AgentTarget
from towpath.domain.errors import Conflict, NotFound
from towpath.domain.templates import secrets_read
from towpath.storage.models import Agent, Run, StepRun, WorkspaceSecret
from towpath.storage.pagination import Page, PageRequest, paginate
from towpath.storage.secret_keys import SecretUnreadable
from towpath.storage.secrets import server_secret

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.storage.database import Database
    from towpath.storage.secret_keys import SecretKeys

SORTABLE = {"created_at": Agent.created_at, "name": Agent.name, "updated_at": Agent.updated_at}


class AgentNotFound(NotFound):
    code = "AGENT_NOT_FOUND"

    def __init__(self, agent_id: str) -> None:
        super().__init__(f"agent {agent_id!r} not found", details={"id": agent_id})


class AgentNameTaken(Conflict):
    code = "AGENT_NAME_TAKEN"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"an agent named {name!r} already exists in this workspace",
            details={"field": "name", "name": name},
        )


def _living(workspace_id: str) -> ColumnElement[bool]:
    return and_(Agent.workspace_id == workspace_id, Agent.deleted_at.is_(None))


async def get_agent(
    session: AsyncSession, workspace_id: str, agent_id: str, *, for_update: bool = False
) -> Agent:
    stmt = select(Agent).where(Agent.id == agent_id, _living(workspace_id))
    if for_update:
        stmt = stmt.with_for_update()
    found = await session.scalar(stmt)
    if found is None:
        raise AgentNotFound(agent_id)
    return found


async def name_taken(
    session: AsyncSession, workspace_id: str, name: str, except_id: str | None = None
) -> bool:
    stmt = select(Agent.id).where(Agent.name == name, _living(workspace_id))
    if except_id is not None:
        stmt = stmt.where(Agent.id != except_id)
    return await session.scalar(stmt.limit(1)) is not None


async def existing_references(
    session: AsyncSession, workspace_id: str, references: set[str]
) -> set[str]:
    """Which of these ids or names name a living agent of the workspace."""
    if not references:
        return set()
    stmt = select(Agent.id, Agent.name).where(
        _living(workspace_id), or_(Agent.id.in_(references), Agent.name.in_(references))
    )
    found: set[str] = set()
    for agent_id, name in (await session.execute(stmt)).all():
        found.update({agent_id, name})
    return found & references


async def list_agents(
    session: AsyncSession,
    workspace_id: str,
    page: PageRequest,
    *,
    kind: str | None = None,
    enabled: bool | None = None,
    capability: str | None = None,
    name: str | None = None,
) -> Page[Agent]:
    conditions = [_living(workspace_id)]
    if kind is not None:
        conditions.append(Agent.kind == kind)
    if enabled is not None:
        conditions.append(Agent.enabled == enabled)
    if name is not None:
        conditions.append(Agent.name.contains(name, autoescape=True))
    if capability is not None:
        # Capabilities are a short JSON list on each row: matched here, alike on both
        # databases, then paged and sorted like any other filter.
        tagged = await session.execute(select(Agent.id, Agent.capabilities).where(*conditions))
        matching = [row_id for row_id, tags in tagged.all() if capability in tags]
        conditions.append(Agent.id.in_(matching))
    stmt = select(Agent).where(*conditions)
    return await paginate(session, stmt, page, SORTABLE, "-created_at", tiebreak=Agent.id)


async def all_enabled(session: AsyncSession, limit: int) -> list[Agent]:
    """Every workspace's enabled agents, for the periodic health check."""
    stmt = (
        select(Agent)
        .where(Agent.deleted_at.is_(None), Agent.enabled.is_(True))
        .order_by(Agent.id)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def add_agent(session: AsyncSession, agent: Agent) -> Agent:
    session.add(agent)
    await session.flush()
    return agent


def target(agent: Agent) -> AgentTarget:
    return AgentTarget(
        id=agent.id,
        name=agent.name,
        url=agent.url,
        headers=dict(agent.headers),
        timeout_seconds=agent.timeout_seconds,
        retry=dict(agent.retry),
        enabled=agent.enabled,
    )


class AgentDirectory:
    """The agents a run's steps may call: those of the run's workspace. Read at each call,
    so a change made through the API (in any process) applies to the next call, with the
    values of the secrets its headers name, decrypted by `keys`."""

    def __init__(self, db: Database, keys: SecretKeys) -> None:
        self.db = db
        self.keys = keys

    async def find(self, run_id: str, reference: str) -> AgentTarget | None:
        stmt = (
            select(Agent)
            .join(Run, Run.workspace_id == Agent.workspace_id)
            .where(
                Run.id == run_id,
                Agent.deleted_at.is_(None),
                or_(Agent.id == reference, Agent.name == reference),
            )
        )
        async with self.db.read() as session:
            found = list((await session.scalars(stmt)).all())
            # An id wins over a name that happens to equal it.
            found.sort(key=lambda agent: agent.id != reference)
            if not found:
                return None
            agent = found[0]
            names = secrets_read(agent.headers)
            ciphertexts: dict[str, str] = {}
            if names:
                rows = await session.scalars(
                    select(WorkspaceSecret).where(
                        WorkspaceSecret.workspace_id == agent.workspace_id,
                        WorkspaceSecret.name.in_(sorted(names)),
                    )
                )
                ciphertexts = {row.name: row.ciphertext for row in rows}
        values: dict[str, str] = {}
        for name, ciphertext in ciphertexts.items():
            try:
                values[name] = self.keys.decrypt(ciphertext)
            except SecretUnreadable:
                continue  # rendering the header then says the secret is missing
        return replace(target(agent), secrets=values)


async def callback_key(db: Database) -> bytes:
    """The key that signs agent callback tokens, shared by every process."""
    return (await server_secret(db, "agent_callbacks")).encode()


async def run_workspace(session: AsyncSession, run_id: str) -> str | None:
    """The workspace of a run a callback names: the callback's token is its only credential."""
    found: str | None = await session.scalar(select(Run.workspace_id).where(Run.id == run_id))
    return found


async def waiting_agent_retry(
    session: AsyncSession, run_id: str, step_id: str
) -> dict[str, Any] | None:
    """The retry defaults of the agent a waiting `agent` step called (its state names it)."""
    state = await session.scalar(
        select(StepRun.state).where(
            StepRun.run_id == run_id, StepRun.step_id == step_id, StepRun.item_index == -1
        )
    )
    agent_id = state.get("agent_id") if isinstance(state, dict) else None
    if not isinstance(agent_id, str):
        return None
    found = await session.scalar(select(Agent.retry).where(Agent.id == agent_id))
    return dict(found) if isinstance(found, dict) else None
