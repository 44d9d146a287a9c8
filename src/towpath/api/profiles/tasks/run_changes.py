"""What `PATCH /api/runs/{id}` and `DELETE /api/runs/{id}` do to a towpath run: the
document's run statuses mapped onto cancel, pause and unpause, and a delete that stops a
live run first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.api.profiles.tasks.schemas import doc_run_status
from towpath.domain.errors import Conflict
from towpath.services import run_deletion, run_pauses, run_trees, runs

if TYPE_CHECKING:
    from towpath.auth.principal import Principal
    from towpath.engine.runtime import Runtime
    from towpath.storage.rows import RunRow

LIVE = frozenset({"pending", "running", "waiting", "paused"})


class StatusNotSettable(Conflict):
    code = "INVALID_STATUS_CHANGE"

    def __init__(self, run_id: str, now: str, asked: str) -> None:
        super().__init__(
            f"run {run_id!r} is {now}: a run becomes {asked} by its own steps; set `cancelled`"
            " to stop it, `pending` to hold it, `running` to let a held run go on",
            details={"id": run_id, "status": now, "asked": asked},
        )


async def set_status(
    runtime: Runtime, caller: Principal, run_id: str, asked: str
) -> tuple[RunRow, dict[str, Any]]:
    """The run with the document's status `asked`. A run that already reads so is left
    as it is; `completed` and `failed` are only ever that."""
    run, context = await runs.get(runtime, caller, run_id)
    now = doc_run_status(run.status, run.error)
    if asked == now or (asked == "paused" and run.status == "paused"):
        return run, context
    if asked == "cancelled":
        return await runs.cancel(runtime, caller, run_id, None)
    if asked in ("pending", "paused"):
        return await run_pauses.pause(runtime, caller, run_id, None)
    if asked == "running":
        return await run_pauses.unpause(runtime, caller, run_id)
    raise StatusNotSettable(run_id, now, asked)


async def delete(runtime: Runtime, caller: Principal, run_id: str) -> None:
    """Deletes the run; one still in flight is cancelled first, with the runs it started."""
    run, _ = await runs.get(runtime, caller, run_id)
    if run.status in LIVE:
        await run_trees.cancel_tree(runtime, caller, run_id, "deleted")
    await run_deletion.delete_run(runtime, caller, run_id)
