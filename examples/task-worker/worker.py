"""A worker for the `images` queue of examples/task-worker/workflow.json.

    TOWPATH_URL=http://localhost:8000 TOWPATH_API_KEY=tp_... python worker.py

Ctrl-C (or SIGTERM) stops polling, lets the task in hand finish for up to 30 s, and gives
back any task that does not finish, so another worker takes it.
"""

from __future__ import annotations

import os
from typing import Any

from towpath.worker import TaskContext, Worker

worker = Worker(
    os.environ.get("TOWPATH_URL", "http://localhost:8000"), os.environ["TOWPATH_API_KEY"]
)


@worker.task("images")
def resize(task_input: dict[str, Any], context: TaskContext) -> dict[str, Any]:
    # A real worker would fetch the image and resize it; the idempotency key is the same
    # for every delivery of one attempt, so an upload keyed by it happens once.
    width = int(task_input.get("width", 128))
    name = f"{context.idempotency_key.replace(':', '-')}-{width}.png"
    if not str(task_input.get("url", "")).startswith("https://"):
        raise ValueError("only https images")  # the task fails; the step may retry it
    return {"thumbnail": f"https://cdn.example.com/{name}", "width": width}


if __name__ == "__main__":
    worker.run()
