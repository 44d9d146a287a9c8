"""The agents a definition's `agent` steps name, checked against the workspace's registry
when it is validated or published."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.domain.validation import DefinitionError
from towpath.storage.agents import existing_references

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

AGENT_NOT_FOUND = "AGENT_NOT_FOUND"


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _references(definition: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(node id, config path, reference) of each agent step named as written, not by a
    template (that one is known only at run time)."""
    found = []
    for node in definition.get("nodes") or []:
        if not isinstance(node, dict):
            continue
        config = _object(_object(node.get("data")).get("config"))
        prefix = "config"
        if node.get("type") == "for_each":
            inner = _object(config.get("step"))
            if inner.get("type") != "agent":
                continue
            config, prefix = _object(inner.get("config")), "config.step.config"
        elif node.get("type") != "agent":
            continue
        for name in ("agent_id", "agent"):
            value = config.get(name)
            if isinstance(value, str) and value and "{{" not in value:
                found.append((str(node.get("id")), f"{prefix}.{name}", value))
    return found


async def missing_agents(
    session: AsyncSession, workspace_id: str, definition: dict[str, Any]
) -> list[DefinitionError]:
    named = _references(definition)
    existing = await existing_references(session, workspace_id, {ref for _, _, ref in named})
    return [
        DefinitionError(
            code=AGENT_NOT_FOUND,
            message=f"step {node_id!r} calls agent {reference!r}, which is not registered",
            node_id=node_id,
            path=path,
        )
        for node_id, path, reference in named
        if reference not in existing
    ]
