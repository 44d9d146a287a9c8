"""Agent health: one check calls the agent's health URL within its timeout; a loop checks
every enabled agent periodically and keeps the last results of each, for the API and
/metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
from sqlalchemy.exc import SQLAlchemyError

from towpath.domain.clock import utcnow
from towpath.steps.egress import DestinationRefused
from towpath.steps.http_client import step_session
from towpath.steps.services import egress_policy
from towpath.storage.agents import all_enabled

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from datetime import datetime

    from towpath.steps.egress import EgressPolicy
    from towpath.steps.settings import StepSettings
    from towpath.storage.database import Database
    from towpath.storage.models import Agent

log = logging.getLogger("towpath.agents")
# Agents checked at once by the loop, and at most per round.
_AT_ONCE = 10
_PER_ROUND = 1000


@dataclass(frozen=True)
class HealthCheck:
    agent_id: str
    agent_name: str
    url: str
    up: bool
    status_code: int | None
    latency_ms: float
    checked_at: datetime
    error: str | None = None


class AgentHealth:
    """Checks agents through the egress guard and remembers the last `keep` of each."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        policy: EgressPolicy,
        keep: int,
        on_check: Callable[[HealthCheck], None] | None = None,
    ) -> None:
        self.http = http
        self.policy = policy
        self.keep = keep
        self.on_check = on_check
        self._history: dict[str, deque[HealthCheck]] = {}

    async def check(self, agent: Agent) -> HealthCheck:
        url = agent.health_url or agent.url
        began = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            timeout = aiohttp.ClientTimeout(total=agent.timeout_seconds)
            async with self.http.get(url, timeout=timeout, allow_redirects=False) as response:
                status = response.status
        except DestinationRefused as refused:
            error = str(refused)
        except TimeoutError:
            error = f"no answer within {agent.timeout_seconds:g} seconds"
        except (aiohttp.ClientError, OSError) as failed:
            error = str(failed) or type(failed).__name__
        latency = (time.perf_counter() - began) * 1000
        up = status is not None and 200 <= status < 300
        if status is not None and not up:
            error = f"HTTP {status}"
        found = HealthCheck(
            agent.id, agent.name, url, up, status, round(latency, 3), utcnow(), error
        )
        self._history.setdefault(agent.id, deque(maxlen=self.keep)).append(found)
        if self.on_check is not None:
            self.on_check(found)
        return found

    def recent(self, agent_id: str) -> list[HealthCheck]:
        """The last checks of the agent, newest first."""
        return list(reversed(self._history.get(agent_id, ())))

    def forget(self, agent_id: str) -> None:
        self._history.pop(agent_id, None)

    async def check_all(self, db: Database) -> list[HealthCheck]:
        async with db.read() as session:
            agents = await all_enabled(session, _PER_ROUND)
        limit = asyncio.Semaphore(_AT_ONCE)

        async def one(agent: Agent) -> HealthCheck:
            async with limit:
                return await self.check(agent)

        return list(await asyncio.gather(*(one(agent) for agent in agents)))

    async def run(self, db: Database, interval: float) -> None:
        while True:
            try:
                await self.check_all(db)
            except (SQLAlchemyError, OSError):
                # The database away for a moment must not end the checks for good.
                log.exception("agent health checks failed")
            await asyncio.sleep(interval)


@asynccontextmanager
async def agent_health_running(
    db: Database,
    settings: StepSettings,
    *,
    interval: float,
    keep: int,
    on_check: Callable[[HealthCheck], None] | None = None,
) -> AsyncIterator[AgentHealth]:
    """The checker, and its loop every `interval` seconds (none when 0)."""
    policy = egress_policy(settings)
    async with step_session(policy) as http:
        health = AgentHealth(http, policy, keep, on_check)
        task = asyncio.create_task(health.run(db, interval)) if interval > 0 else None
        try:
            yield health
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
