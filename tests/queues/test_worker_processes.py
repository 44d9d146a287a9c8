"""The must-have: two worker processes poll one queue of a real `towpath serve`; the one
holding the task is killed mid-task, and the task completes exactly once, by the other."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from tests.events.test_serve_process import towpath_serve
from tests.queues.flows import task_workflow

if TYPE_CHECKING:
    from collections.abc import Callable

WORKER = Path(__file__).with_name("pair_worker.py")


def _until(holds: Callable[[], Any], seconds: float, what: str) -> Any:
    """A blocking `eventually` for a test without an event loop of its own."""
    import time

    deadline = time.monotonic() + seconds
    while not (found := holds()):
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.05)
    return found


def _worker(base: str, key: str, name: str, mode: str, directory: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, str(WORKER), base, key, name, mode, str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_task_whose_worker_is_killed_completes_once_by_the_other(
    tmp_path: Path, sqlite_template: Path
) -> None:
    # Migrated already: the server starts without a migration to run.
    shutil.copyfile(sqlite_template, tmp_path / "served.db")
    with towpath_serve(tmp_path) as served:
        api = httpx.Client(
            base_url=f"{served.base}/api/v1",
            headers={"Authorization": f"Bearer {served.admin_key}"},
            timeout=30,
        )
        workflow = api.post(
            "/workflows", json={"name": "pair", "definition": task_workflow("pair")}
        ).json()
        api.post(f"/workflows/{workflow['id']}/publish").raise_for_status()
        run = api.post(f"/workflows/{workflow['id']}/run", json={"input": {"n": 3}}).json()
        hanging = _worker(served.base, served.admin_key, "hanging", "hang", tmp_path)
        quick = None
        try:
            # A loaded machine (a CI runner, say) may take a while to start a process.
            _until((tmp_path / "hanging.started").exists, 90, "the first worker took the task")
            quick = _worker(served.base, served.admin_key, "quick", "quick", tmp_path)
            hanging.kill()
            hanging.wait(10)

            def ended() -> dict[str, Any] | None:
                found: dict[str, Any] = api.get(f"/runs/{run['id']}").json()
                return found if found["status"] in ("completed", "failed") else None

            done = _until(ended, 90, "the run ended")
        finally:
            for process in (hanging, quick):
                if process is not None:
                    process.kill()
                    process.wait(10)
        steps = {s["step_id"]: s for s in api.get(f"/runs/{run['id']}/steps").json()}
        events = [e["event_type"] for e in api.get(f"/runs/{run['id']}/events").json()]
        api.close()

    assert done["status"] == "completed", done
    assert steps["work"]["output"] == {"by": "quick", "input": {"n": 3}}
    assert (tmp_path / "hanging.started").read_text().count("\n") == 1
    assert (tmp_path / "quick.started").read_text().count("\n") == 1
    assert events.count("task.completed") == 1
    assert events.count("task.failed") == 0
