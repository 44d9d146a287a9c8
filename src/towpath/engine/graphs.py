"""Published workflows prepared for running, cached: a published workflow never changes."""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from towpath.domain.definition import FlowControl, Node, WorkflowDefinition
from towpath.domain.errors import WorkflowInvalid, WorkflowNotFound, WorkflowNotPublished
from towpath.domain.json_schema import offline_validator
from towpath.domain.scheduler import RunGraph
from towpath.domain.validation import MAX_RUN_TIMEOUT_SECONDS
from towpath.engine.settings import RunLimits
from towpath.engine.sql import fetch

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

    from towpath.engine.sql import Dialect, Gen

# An edge without a handle leaving an approval is the approved way out.
DEFAULT_HANDLES = {"approval": "approved"}


class PreparedWorkflow:
    def __init__(
        self,
        workflow_id: str,
        workspace_id: str,
        status: str,
        definition: dict[str, Any],
        input_schema: dict[str, Any] | None,
        lineage_id: str | None = None,
    ) -> None:
        self.workflow_id = workflow_id
        self.workspace_id = workspace_id
        # Every version of one workflow shares it: pausing and in-flight counts go by it.
        self.lineage_id = lineage_id or workflow_id
        self.status = status
        try:
            parsed = WorkflowDefinition.model_validate(definition)
        except ValidationError as exc:
            # Only a definition stored before a rule existed gets here: say it, never crash.
            raise WorkflowInvalid(
                [{"path": _path(e["loc"]), "message": e["msg"]} for e in exc.errors()]
            ) from exc
        self.graph = RunGraph.of(parsed, DEFAULT_HANDLES)
        self.nodes: dict[str, Node] = {node.id: node for node in parsed.nodes}
        bound = definition.get("max_concurrency")
        # Steps of one run executing at once; a definition may set its own bound.
        self.max_concurrency = bound if isinstance(bound, int) and bound > 0 else 32
        timeout = definition.get("timeout_seconds")
        # Bounded for definitions published before validation bounded it.
        self.timeout_seconds = (
            min(float(timeout), MAX_RUN_TIMEOUT_SECONDS)
            if isinstance(timeout, int | float)
            else None
        )
        # Concurrency, rate limit and priority of its runs (`engine.admission`).
        self.flow = FlowControl.of(definition)
        # References resolve within the schema only: a run start never fetches a URL.
        self.input_validator: Validator | None = (
            offline_validator(input_schema) if input_schema else None
        )


def _path(loc: tuple[int | str, ...]) -> str:
    return "/" + "/".join(str(part) for part in loc)


class WorkflowCache:
    """Only published workflows are kept: a draft may still change. Whatever starts a run
    of one reads them here, and with them the bounds every start respects."""

    def __init__(self, size: int = 512, limits: RunLimits | None = None) -> None:
        self._size = size
        self.limits = limits or RunLimits()
        self._entries: OrderedDict[str, PreparedWorkflow] = OrderedDict()

    def get(
        self, d: Dialect, workflow_id: str, workspace_id: str | None = None
    ) -> Gen[PreparedWorkflow]:
        found = self._entries.get(workflow_id)
        if found is None:
            found = yield from self._load(d, workflow_id, workspace_id)
        else:
            self._entries.move_to_end(workflow_id)
        if workspace_id is not None and found.workspace_id != workspace_id:
            raise WorkflowNotFound(workflow_id)
        return found

    def latest(self, d: Dialect, workflow_id: str, workspace_id: str) -> Gen[PreparedWorkflow]:
        """The newest published version of the lineage `workflow_id` belongs to (any of its
        versions' ids, the lineage's id among them), read when it is asked for: what a
        trigger runs unless it pins a version."""
        rows = yield from fetch(
            "SELECT latest.id FROM workflows AS named JOIN workflows AS latest"
            " ON latest.lineage_id = named.lineage_id"
            " WHERE named.id = ? AND named.workspace_id = ? AND latest.status = 'published'"
            " AND latest.deleted_at IS NULL ORDER BY latest.version DESC LIMIT 1",
            workflow_id,
            workspace_id,
        )
        if not rows:
            # No published version: the named one says why (not found, or a draft).
            return (yield from self.get(d, workflow_id, workspace_id))
        return (yield from self.get(d, rows[0][0], workspace_id))

    def _load(
        self, d: Dialect, workflow_id: str, workspace_id: str | None
    ) -> Gen[PreparedWorkflow]:
        rows = yield from fetch(
            "SELECT workspace_id, status, definition, input_schema, lineage_id FROM workflows"
            " WHERE id = ? AND deleted_at IS NULL",
            workflow_id,
        )
        if not rows:
            raise WorkflowNotFound(workflow_id)
        owner, status, definition, schema, lineage_id = rows[0]
        if workspace_id is not None and owner != workspace_id:
            # Another workspace's draft is as unknown as any other of its workflows.
            raise WorkflowNotFound(workflow_id)
        if status != "published":
            # A draft may hold any half-made graph: it is refused before anything is built.
            raise WorkflowNotPublished(workflow_id, status)
        prepared = PreparedWorkflow(
            workflow_id,
            owner,
            status,
            d.read_doc(definition),
            d.read_doc(schema),
            lineage_id,
        )
        if status == "published":
            self._entries[workflow_id] = prepared
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return prepared
