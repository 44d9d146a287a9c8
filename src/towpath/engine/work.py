"""A claimed step: everything a worker needs to execute it without another query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from towpath.domain.definition import Node


def idempotency_key(run_id: str, step_id: str, item_index: int, attempt: int) -> str:
    """`run:step:attempt` (a for_each item's step is `step[i]`): the same for every
    execution of one attempt, so a downstream system can drop a resend."""
    suffix = "" if item_index < 0 else f"[{item_index}]"
    return f"{run_id}:{step_id}{suffix}:{attempt}"


@dataclass(frozen=True)
class Work:
    step_run_id: str
    run_id: str
    workflow_id: str
    step_id: str
    item_index: int
    step_type: str
    attempt: int
    lease_token: str
    node: Node
    # The config to execute: the node's, or a for_each's inner step for one item.
    config: dict[str, Any]
    variables: dict[str, Any]
    saved: dict[str, Any]
    # The input a retry set for this step: used as the rendered config, never rendered.
    resolved: dict[str, Any] | None = None

    @property
    def idempotency_key(self) -> str:
        return idempotency_key(self.run_id, self.step_id, self.item_index, self.attempt)
