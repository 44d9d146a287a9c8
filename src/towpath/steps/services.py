"""The clients and settings every step of a process shares, opened and closed together."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import httpcore
import httpx

from towpath.steps.egress import EgressPolicy, GuardedBackend
from towpath.steps.execution import EngineServices

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from towpath.steps.settings import StepSettings

# Each hop of a redirect is a new connection, checked like the first one.
MAX_REDIRECTS = 10


def step_client(policy: EgressPolicy) -> httpx.AsyncClient:
    """An HTTP client that connects only where the policy allows (see `steps.egress`)."""
    # One TLS context for the transport and its pool: loading the certificates is the
    # costly part, in time and in memory.
    tls = httpx.create_ssl_context()
    transport = httpx.AsyncHTTPTransport(verify=tls)
    # httpx takes no network backend of its own; its connection pool does.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=tls,
        max_connections=100,
        # As many kept as may be open: with fewer, steps in flight beyond them each open
        # (and the guard checks) a new connection per call.
        max_keepalive_connections=100,
        keepalive_expiry=5.0,
        network_backend=GuardedBackend(policy),
    )
    return httpx.AsyncClient(transport=transport, max_redirects=MAX_REDIRECTS)


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
