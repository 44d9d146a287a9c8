"""A claimed step: everything a worker needs to execute it without another query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from towpath.domain.definition import Node


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

    @property
    def idempotency_key(self) -> str:
        suffix = "" if self.item_index < 0 else f"[{self.item_index}]"
        return f"{self.run_id}:{self.step_id}{suffix}:{self.attempt}"
