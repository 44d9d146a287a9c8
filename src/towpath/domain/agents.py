"""A registered agent as an `agent` step sees it when it calls one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AgentTarget:
    id: str
    name: str
    url: str
    # Values may be templates naming `secrets`; the step renders them per call.
    headers: dict[str, Any] = field(default_factory=dict)
    timeout_seconds: float = 30.0
    # A step's `retry` as written: what the step uses unless it sets its own.
    retry: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    # The values of the workspace secrets its headers name, for this call only.
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
