"""The clients and settings every step of a process shares, opened and closed together."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import httpcore
import httpx

from towpath.steps.egress import EgressPolicy, GuardedBackend
from towpath.steps.execution import EngineServices
from towpath.steps.http_pools import SpreadTransport

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from towpath.steps.settings import StepSettings

# Each hop of a redirect is a new connection, checked like the first one.
MAX_REDIRECTS = 10


# 25 pools of 4 connections: see `steps.http_pools` for why not one pool of 100.
POOLS = 25
CONNECTIONS_PER_POOL = 4


def step_client(policy: EgressPolicy) -> httpx.AsyncClient:
    """An HTTP client that connects only where the policy allows (see `steps.egress`)."""
    # One TLS context for every pool: loading the certificates is the costly part, in
    # time and in memory.
    tls = httpx.create_ssl_context()
    backend = GuardedBackend(policy)
    pools = []
    for _ in range(POOLS):
        transport = httpx.AsyncHTTPTransport(verify=tls)
        # httpx takes no network backend of its own; its connection pool does.
        transport._pool = httpcore.AsyncConnectionPool(
            ssl_context=tls,
            max_connections=CONNECTIONS_PER_POOL,
            # As many kept as may be open: with fewer, calls beyond them would each
            # open (and the guard check) a new connection.
            max_keepalive_connections=CONNECTIONS_PER_POOL,
            keepalive_expiry=5.0,
            network_backend=backend,
        )
        pools.append(transport)
    return httpx.AsyncClient(transport=SpreadTransport(pools), max_redirects=MAX_REDIRECTS)


def egress_policy(settings: StepSettings) -> EgressPolicy:
    # The operator chose the LLM endpoint, so its host and port are reachable even when
    # private (a model served on the same machine, say).
    llm = httpx.URL(settings.llm_base_url)
    port = llm.port or (443 if llm.scheme == "https" else 80)
    host = f"[{llm.host}]" if ":" in llm.host else llm.host
    return EgressPolicy.parse([*settings.step_allowed_hosts, f"{host}:{port}"])


@asynccontextmanager
async def engine_services(settings: StepSettings) -> AsyncIterator[EngineServices]:
    async with step_client(egress_policy(settings)) as http:
        yield EngineServices(
            http=http, llm_base_url=settings.llm_base_url, llm_api_key=settings.llm_api_key
        )
