"""A worker process for the crash test: `python pair_worker.py <base> <key> <name> <mode>`.
In `hang` mode it takes a task and never finishes it; in `quick` mode it completes each at
once. Each task it starts is written to `<dir>/<name>.started`, one line per task."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from towpath.worker import TaskContext, Worker

base, key, name, mode, directory = sys.argv[1:6]
worker = Worker(base, key, worker_id=name, lease_seconds=5, wait_seconds=1, concurrency=1)


@worker.task("pair")
def work(task_input: Any, context: TaskContext) -> dict[str, Any]:
    with (Path(directory) / f"{name}.started").open("a") as started:
        started.write(f"{context.task_id}\n")
    while mode == "hang":
        time.sleep(1)
    return {"by": name, "input": task_input}


worker.run()
