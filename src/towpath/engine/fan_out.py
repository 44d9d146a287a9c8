"""for_each: the parent step waits while its items run, a bounded number at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towpath.engine.rows import WHOLE_STEP

if TYPE_CHECKING:
    from towpath.engine.rows import StepRow
    from towpath.engine.transition import RunTransaction


def fan_out(
    rt: RunTransaction, parent: StepRow, items: list[Any], concurrency: int, inner_type: str
) -> None:
    if not items:
        rt.complete_step(parent, [], None)
        return
    parent.state = {"total": len(items), "concurrency": concurrency}
    parent.available_at = None  # it waits for its items, with no deadline of its own
    rt.set_step_status(parent, "waiting", items=len(items), concurrency=concurrency)
    for index, item in enumerate(items):
        status = "queued" if index < concurrency else "pending"
        row = rt.add_step(parent.step_id, inner_type, status, item_index=index)
        row.state = {"item": item}


def kept_state(row: StepRow) -> dict[str, Any]:
    """What a step's state keeps whatever else it saves: a for_each item's own value."""
    if row.item_index != WHOLE_STEP and isinstance(row.state, dict) and "item" in row.state:
        return {"item": row.state["item"]}
    return {}


def items_of(rt: RunTransaction, step_id: str) -> list[StepRow]:
    rows = [row for (sid, item), row in rt.steps.items() if sid == step_id and item != WHOLE_STEP]
    return sorted(rows, key=lambda row: row.item_index)


def item_settled(rt: RunTransaction, item: StepRow) -> None:
    """After an item ended: start the next ones, or end the parent when all have ended."""
    parent = rt.step(item.step_id)
    if parent is None or parent.status != "waiting":
        return
    rows = items_of(rt, item.step_id)
    failed = next((row for row in rows if row.status == "failed"), None)
    if failed is not None:
        parent.error = f"item {failed.item_index}: {failed.error}"
        for row in rows:
            if row.status in ("pending", "queued", "retrying", "running"):
                rt.set_step_status(row, "cancelled")
        rt.set_step_status(parent, "failed", error=parent.error)
        return
    if all(row.status == "completed" for row in rows):
        rt.complete_step(parent, [row.output for row in rows], None)
        return
    busy = sum(row.status in ("queued", "retrying", "running", "waiting") for row in rows)
    limit = int((parent.state or {}).get("concurrency", 1))
    for row in rows:
        if busy >= limit:
            break
        if row.status == "pending":
            rt.set_step_status(row, "queued")
            row.available_at = rt.now
            busy += 1
