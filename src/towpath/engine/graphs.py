"""Published definitions prepared for scheduling, cached: a published workflow never changes."""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import TYPE_CHECKING

from towpath.domain.definition import Node, WorkflowDefinition
from towpath.domain.errors import WorkflowNotFound
from towpath.domain.scheduler import RunGraph
from towpath.engine.sql import fetch

if TYPE_CHECKING:
    from towpath.engine.sql import Dialect, Gen

# An edge without a handle leaving an approval is the approved way out.
DEFAULT_HANDLES = {"approval": "approved"}


class PreparedWorkflow:
    def __init__(self, workflow_id: str, definition: WorkflowDefinition) -> None:
        self.workflow_id = workflow_id
        self.graph = RunGraph.of(definition, DEFAULT_HANDLES)
        self.nodes: dict[str, Node] = {node.id: node for node in definition.nodes}


class WorkflowCache:
    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._entries: OrderedDict[str, PreparedWorkflow] = OrderedDict()

    def get(self, d: Dialect, workflow_id: str) -> Gen[PreparedWorkflow]:
        found = self._entries.get(workflow_id)
        if found is not None:
            self._entries.move_to_end(workflow_id)
            return found
        rows = yield from fetch("SELECT definition FROM workflows WHERE id = ?", workflow_id)
        if not rows:
            raise WorkflowNotFound(workflow_id)
        raw = rows[0][0]
        definition = json.loads(raw) if isinstance(raw, str) else raw
        prepared = PreparedWorkflow(workflow_id, WorkflowDefinition.model_validate(definition))
        self._entries[workflow_id] = prepared
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return prepared
