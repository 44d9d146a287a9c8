"""What a step's `execute` receives and what it may answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping
    from datetime import datetime

    import aiohttp

    from towpath.domain.agents import AgentTarget
    from towpath.steps.circuit import CircuitBreakers
    from towpath.steps.common import RetryPolicy


# What the engine cancels a step's execution with when it stops waiting for it (its run
# ended, another worker took the step over, the worker is stopping): a call cut off so
# says nothing of its destination, unlike one the step's own deadline ended.
CUT_OFF = "the engine stopped waiting for this execution"


class AgentLookup(Protocol):
    """Finds the registered agent a run's step names, by id or name, in the run's
    workspace; None when there is none (or it was deleted)."""

    async def find(self, run_id: str, reference: str) -> AgentTarget | None: ...


@dataclass(frozen=True)
class EngineServices:
    """Shared clients and settings the engine hands every step."""

    http: aiohttp.ClientSession
    llm_base_url: str = "https://api.openai.com/v1"
    llm_api_key: str = ""
    agents: AgentLookup | None = None
    # towpath's address as agents reach it (TOWPATH_PUBLIC_URL): callback URLs start here.
    public_url: str | None = None
    # Signs the per-attempt tokens sent with callback URLs (steps/callback_tokens.py).
    callback_key: bytes = b""
    # Per destination: calls to one that keeps failing are refused for a while.
    breakers: CircuitBreakers | None = None


@dataclass(frozen=True)
class StepContext:
    run_id: str
    step_id: str
    attempt: int
    # run_id:step_id:attempt; sent downstream so a repeated attempt can be recognised.
    idempotency_key: str
    now: datetime
    # The template context: input, secrets, steps, run and each upstream output by node id.
    variables: Mapping[str, Any]
    # What an earlier execution of this attempt saved (a durable timer's due time).
    saved: Mapping[str, Any]
    services: EngineServices
    log: Callable[[str, str], None]


@dataclass(frozen=True)
class Completed:
    output: Any
    # The handle a branching step leaves by; None lets every outgoing edge deliver.
    handle: str | None = None


@dataclass(frozen=True)
class Failed:
    error: str
    # The kind of failure, matched against a retry policy's `retry_on`:
    # "timeout", "network", "5xx" or "error".
    kind: str = "error"
    retryable: bool = True
    # A retry policy learned only while executing (a registered agent's defaults); it is
    # used instead of the config's.
    retry: RetryPolicy | None = None
    # How long the destination asked to be left alone (its `Retry-After`), or how long its
    # circuit stays open: a retry waits at least this long.
    retry_after: float | None = None
    # The destination's circuit after this attempt, when it is not closed.
    circuit: str | None = None


@dataclass(frozen=True)
class Waiting:
    """The step waits for a person or an event; `request` says what it waits for."""

    request: Mapping[str, Any]
    timeout_seconds: float | None = None


@dataclass(frozen=True)
class Deferred:
    """Park the step until `until`, then execute it again with `saved` (a durable timer)."""

    until: datetime
    saved: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FanOut:
    """Run the for_each's inner step once per item, `concurrency` at a time."""

    items: list[Any]
    concurrency: int
    step_type: str


@dataclass(frozen=True)
class StartChild:
    """Start a run of another published workflow; wait for it when `wait`."""

    workflow_id: str
    input: dict[str, Any]
    wait: bool = True


Outcome = Completed | Failed | Waiting | Deferred | FanOut | StartChild


class RunInline(Protocol):
    """A pure step's work, done synchronously: no I/O, no waiting, no randomness."""

    def __call__(self, config: Any, context: StepContext, /) -> Outcome: ...


class Execute(Protocol):
    """A step type's work: its parsed (rendered) config and the context, to an outcome."""

    def __call__(self, config: Any, context: StepContext, /) -> Awaitable[Outcome]: ...
