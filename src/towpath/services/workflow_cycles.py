"""Workflows that start themselves again through `sub_workflow`, found before they run.

A published workflow never changes, so the workflows a definition names (by id, not by
a template) and the ones they name in turn are known at publish time. Reaching the
lineage being published again is a loop: with `wait: false` a fork bomb, with `wait:
true` recursion. Drafts on the way are not followed: they are checked when published.
What cannot be seen here (a workflow picked by a template, a version published before
this check) is stopped by the run-tree and depth bounds of `engine.bounds`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from towpath.domain.errors import Unprocessable
from towpath.domain.validation import DefinitionError
from towpath.storage import workflows as queries

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from towpath.storage.models import Workflow

CYCLE_CODE = "sub_workflow_cycle"


@dataclass(frozen=True)
class Loop:
    node_id: str
    # The workflow ids from the one published to the version of its lineage reached.
    path: list[str]

    def issue(self) -> DefinitionError:
        if len(self.path) == 2:
            how = "starts a run of this workflow"
        else:
            through = ", ".join(repr(w) for w in self.path[1:-1])
            how = f"starts this workflow again, through workflow(s) {through}"
        return DefinitionError(
            CYCLE_CODE,
            f"node {self.node_id!r} {how}: a workflow may not start itself"
            " (TOWPATH_ALLOW_RECURSIVE_WORKFLOWS allows it)",
            node_id=self.node_id,
            path=f"/nodes/{self.node_id}/data/config/workflow_id",
        )


class SubWorkflowCycle(Unprocessable):
    code = "SUB_WORKFLOW_CYCLE"

    def __init__(self, loop: Loop) -> None:
        issue = loop.issue()
        super().__init__(
            issue.message,
            details={"node_id": loop.node_id, "path": loop.path, "errors": [issue.to_dict()]},
        )


def called_workflows(definition: dict[str, Any]) -> list[tuple[str, str]]:
    """(node id, workflow id) for each sub_workflow, alone or run per item of a for_each,
    whose workflow id is written out rather than made by a template."""
    found = []
    for node in definition.get("nodes") or []:
        if not isinstance(node, dict):
            continue
        config = (node.get("data") or {}).get("config") or {}
        step_type = node.get("type")
        if step_type == "for_each" and isinstance(config.get("step"), dict):
            step_type = config["step"].get("type")
            config = config["step"].get("config") or {}
        target = config.get("workflow_id") if isinstance(config, dict) else None
        if step_type == "sub_workflow" and isinstance(target, str) and "{" not in target:
            found.append((str(node.get("id")), target))
    return found


async def find_loop(session: AsyncSession, workflow: Workflow) -> Loop | None:
    """The first node of `workflow` that leads back to its own lineage, breadth first."""
    reached: set[str] = set()
    frontier: list[tuple[str, str, list[str]]] = [
        (node_id, target, [workflow.id, target])
        for node_id, target in called_workflows(workflow.definition)
    ]
    while frontier:
        wanted = sorted({target for _, target, _ in frontier} - reached)
        loaded = {w.id: w for w in await queries.get_many(session, workflow.workspace_id, wanted)}
        next_frontier = []
        for node_id, target, path in frontier:
            found = loaded.get(target)
            if target in reached or found is None:
                continue
            if found.lineage_id == workflow.lineage_id:
                return Loop(node_id, path)
            reached.add(target)
            if found.status == "published":
                next_frontier += [
                    (node_id, called, [*path, called])
                    for _, called in called_workflows(found.definition)
                ]
        frontier = next_frontier
    return None
