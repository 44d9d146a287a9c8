"""Archived workflow versions: read when a run would start, since the cached prepared
workflow never changes while its archived mark may."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.domain.errors import Conflict

if TYPE_CHECKING:
    from datetime import datetime

    from towpath.engine.graphs import PreparedWorkflow
    from towpath.engine.sql import Dialect


class WorkflowArchived(Conflict):
    code = "WORKFLOW_ARCHIVED"

    def __init__(self, workflow_id: str, archived_at: datetime | None) -> None:
        super().__init__(
            f"workflow version {workflow_id!r} is archived: it starts no run until it is"
            " unarchived",
            details={
                "id": workflow_id,
                "archived": True,
                "archived_at": archived_at.isoformat() if archived_at else None,
            },
        )


def refuse_archived(d: Dialect, workflow: PreparedWorkflow, archived_at: Any) -> None:
    """Refuse a start of an archived version, whoever asks (a person, a trigger, a parent
    run's sub_workflow step); its runs already started go on. `archived_at` is read with
    the start's other bounds, in one statement (`engine.bounds`)."""
    if archived_at is not None:
        raise WorkflowArchived(workflow.workflow_id, d.read_time(archived_at))
