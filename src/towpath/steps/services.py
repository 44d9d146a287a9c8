"""The clients and settings every step of a process shares, opened and closed together."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from yarl import URL

from towpath.steps.circuit import CircuitBreakers
from towpath.steps.egress import EgressPolicy
from towpath.steps.execution import EngineServices
from towpath.steps.http_client import step_session

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from towpath.steps.circuit import CircuitState
    from towpath.steps.execution import AgentLookup
    from towpath.steps.settings import StepSettings


def egress_policy(settings: StepSettings) -> EgressPolicy:
    # The operator chose the LLM endpoint, so its host and port are reachable even when
    # private (a model served on the same machine, say).
    llm = URL(settings.llm_base_url)
    host = llm.host or ""
    port = llm.port or (443 if llm.scheme == "https" else 80)
    shown = f"[{host}]" if ":" in host else host
    return EgressPolicy.parse([*settings.step_allowed_hosts, f"{shown}:{port}"])


@asynccontextmanager
async def engine_services(
    settings: StepSettings,
    *,
    agents: AgentLookup | None = None,
    callback_key: bytes = b"",
    on_circuit_change: Callable[[str, CircuitState], None] | None = None,
) -> AsyncIterator[EngineServices]:
    async with step_session(egress_policy(settings)) as http:
        yield EngineServices(
            http=http,
            llm_base_url=settings.llm_base_url,
            llm_api_key=settings.llm_api_key,
            agents=agents,
            public_url=settings.public_url,
            callback_key=callback_key,
            breakers=CircuitBreakers(
                settings.step_circuit_failures,
                settings.step_circuit_open_seconds,
                on_change=on_circuit_change,
            ),
        )
