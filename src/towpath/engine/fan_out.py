"""for_each: the parent step waits while its items run, a bounded number at a time.

An item costs the same whether the loop has ten items or ten thousand. The values of the
items not started yet wait in `for_each_items`; an item gets its step run when it starts,
and once it ends no transition loads it again (see `rows.load_steps`). The parent's
state counts what has started, so settling an item reads only the items in flight, and
the outputs are read once, when the last item ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.domain.states import STEP_TERMINAL, StepStatus
from towpath.engine.rows import WHOLE_STEP
from towpath.engine.run_io import flush_run
from towpath.engine.sql import execute, execute_many, fetch

if TYPE_CHECKING:
    from towpath.engine.sql import Gen
    from towpath.engine.transition import RunTransaction
    from towpath.storage.rows import StepRow


def fan_out(
    rt: RunTransaction,
    parent: StepRow,
    items: list[Any],
    concurrency: int,
    inner_type: str,
    max_items: int,
) -> Gen[None]:
    d = rt.d
    if parent.attempt > 1:
        # A loop that runs again (its run was retried) starts its items over.
        yield from execute(
            "DELETE FROM step_runs WHERE run_id = ? AND step_id = ? AND item_index >= 0",
            rt.run.id,
            parent.step_id,
        )
        yield from execute("DELETE FROM for_each_items WHERE step_run_id = ?", parent.id)
    if len(items) > max_items:
        parent.error = (
            f"items gave {len(items)} items; a for_each runs at most {max_items}"
            " (TOWPATH_MAX_FOR_EACH_ITEMS)"
        )
        rt.set_step_status(parent, StepStatus.FAILED, error=parent.error, kind="limit")
        return
    if not items:
        rt.complete_step(parent, [], None)
        return
    parent.state = {"total": len(items), "concurrency": concurrency, "started": 0}
    parent.available_at = None  # it waits for its items, with no deadline of its own
    rt.set_step_status(parent, StepStatus.WAITING, items=len(items), concurrency=concurrency)
    first = items[:concurrency]
    if rt.run_is_new or any(row is parent for row in rt.new_steps):
        # The values name their step run: it is written first.
        yield from flush_run(rt)
    # Each value in a list of one: SQLite's JSON column would read a bare number back as
    # a number (its type has numeric affinity), and a large one as a float.
    waiting = [
        [parent.id, index, rt.run.workspace_id, d.doc([item])]
        for index, item in enumerate(items[concurrency:], start=len(first))
    ]
    yield from execute_many(
        "INSERT INTO for_each_items (step_run_id, item_index, workspace_id, value)"
        " VALUES (?, ?, ?, ?)",
        waiting,
    )
    _start(rt, parent, inner_type, list(enumerate(first)))


def kept_state(row: StepRow) -> dict[str, Any]:
    """What a step's state keeps whatever else it saves: a for_each item's own value."""
    if row.item_index != WHOLE_STEP and isinstance(row.state, dict) and "item" in row.state:
        return {"item": row.state["item"]}
    return {}


def _live_items(rt: RunTransaction, step_id: str) -> list[StepRow]:
    """The loop's items in flight: a transition holds them all, and the items it ended
    itself (a few), never the thousands that ended before it."""
    return [
        row
        for row in rt.steps.values()
        if row.step_id == step_id
        and row.item_index != WHOLE_STEP
        and row.status not in STEP_TERMINAL
    ]


def _start(
    rt: RunTransaction, parent: StepRow, inner_type: str, items: list[tuple[int, Any]]
) -> None:
    for index, item in items:
        row = rt.add_step(parent.step_id, inner_type, StepStatus.QUEUED, item_index=index)
        row.state = {"item": item}
    if items:
        parent.state = {**parent.state, "started": items[-1][0] + 1}


def item_settled(rt: RunTransaction, item: StepRow) -> Gen[None]:
    """After an item ended: start the next ones, or end the parent when all have ended."""
    parent = rt.step(item.step_id)
    if parent is None or parent.status != StepStatus.WAITING or not isinstance(parent.state, dict):
        return
    if item.status == StepStatus.FAILED:
        yield from _fail_loop(rt, parent, item)
        return
    state = parent.state
    total = int(state.get("total", 0))
    # A loop begun before items waited apart made every item's row at once: the rows
    # not started yet are `pending`, and start here in order.
    started = int(state.get("started", total))
    live = _live_items(rt, item.step_id)
    room = int(state.get("concurrency", 1)) - sum(row.status != StepStatus.PENDING for row in live)
    for row in sorted(
        (r for r in live if r.status == StepStatus.PENDING), key=lambda r: r.item_index
    ):
        if room <= 0:
            break
        rt.set_step_status(row, StepStatus.QUEUED)
        row.available_at = rt.now
        room -= 1
    if room > 0 and started < total:
        # An item's value moves into its step run's state as it starts.
        values = yield from fetch(
            "DELETE FROM for_each_items WHERE step_run_id = ? AND item_index >= ?"
            " AND item_index < ? RETURNING item_index, value",
            parent.id,
            started,
            started + room,
        )
        if not values:
            parent.error = f"the values of items {started} and on are missing"
            rt.set_step_status(parent, StepStatus.FAILED, error=parent.error)
            return
        starting = sorted(((i, rt.d.read_doc(v)[0]) for i, v in values), key=lambda p: p[0])
        _start(rt, parent, item.step_type, starting)
        started = int(parent.state["started"])
    if started >= total and not _live_items(rt, item.step_id):
        outputs = yield from _outputs(rt, parent, total)
        rt.complete_step(parent, outputs, None)


def _outputs(rt: RunTransaction, parent: StepRow, total: int) -> Gen[list[Any]]:
    """Every item's output in item order: the ended items from the database, those this
    transition ended (and has not written yet) from memory."""
    rows = yield from fetch(
        "SELECT item_index, output FROM step_runs WHERE run_id = ? AND step_id = ?"
        " AND item_index >= 0 AND status = 'completed'",
        rt.run.id,
        parent.step_id,
    )
    found = {index: rt.d.read_doc(output) for index, output in rows}
    for row in rt.steps.values():
        if (
            row.step_id == parent.step_id
            and row.item_index >= 0
            and row.status == StepStatus.COMPLETED
        ):
            found[row.item_index] = row.output
    return [found.get(index) for index in range(total)]


def _fail_loop(rt: RunTransaction, parent: StepRow, failed: StepRow) -> Gen[None]:
    """The first item that fails fails the loop: what is in flight is cancelled, and the
    items never started are recorded as cancelled too."""
    parent.error = f"item {failed.item_index}: {failed.error}"
    for row in _live_items(rt, parent.step_id):
        rt.set_step_status(row, StepStatus.CANCELLED)
    state = parent.state if isinstance(parent.state, dict) else {}
    total = int(state.get("total", 0))
    started = int(state.get("started", total))
    for index in range(started, total):
        rt.add_step(parent.step_id, failed.step_type, StepStatus.CANCELLED, item_index=index)
    if started < total:
        parent.state = {**state, "started": total}
        yield from execute("DELETE FROM for_each_items WHERE step_run_id = ?", parent.id)
    rt.set_step_status(parent, StepStatus.FAILED, error=parent.error)
