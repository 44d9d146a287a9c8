"""PostgreSQL, many processes: runs executed by a separate `towpath worker` are watched
through an API process that executes nothing, their events carried by LISTEN/NOTIFY; a
lost notification connection is caught up from the database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from tests.events.clients import (
    approve,
    assert_follows,
    delays,
    gate,
    history,
    receive,
    receive_until,
    socket,
    until_closed,
)
from tests.factories import edge
from tests.runs import publish, start, wait_for
from tests.waiting import eventually
from towpath.events.listener import APPLICATION_NAME

if TYPE_CHECKING:
    from collections.abc import Iterator

    import httpx

    from tests.events.conftest import LiveServer
    from towpath.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("processes share events through PostgreSQL")
    return settings.model_copy(update={"run_worker": False})


@pytest.fixture
def worker(settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "TOWPATH_DATABASE_URL": settings.database_url,
        "TOWPATH_POLL_SECONDS": "0.05",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "towpath", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield process
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=20)


def review_then_delays() -> dict[str, object]:
    """An approval, then delays: after the answer, every step runs in the worker."""
    definition = delays(4, 0.05)
    definition["nodes"].insert(0, gate()["nodes"][0])
    definition["edges"].append(edge("review", "d0"))
    return definition


async def test_a_run_executed_by_a_worker_process_is_watched_through_the_api(
    server: LiveServer,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    worker: subprocess.Popen[bytes],
) -> None:
    workflow_id = await publish(client, review_then_delays())
    async with socket(server, "/ws/stream", auth_headers) as everything:
        await eventually(lambda: server.hub.subscriber_count() == 1)
        run_id = (await start(client, workflow_id))["id"]
        await wait_for(client, run_id, "waiting", seconds=30)
        async with socket(server, f"/ws/runs/{run_id}", auth_headers) as one_run:
            snapshot = await receive(one_run)
            await approve(client, run_id)
            rest = await until_closed(one_run, 30)
            assert one_run.close_code == 1000
        of_workspace = await receive_until(everything, "run.completed", 30)

    stored = await history(client, run_id)
    assert stored[-1]["event_type"] == "run.completed"
    assert any(e["event_type"] == "step.started" for e in stored[snapshot["seq"] :])
    assert_follows(rest, snapshot["seq"] + 1)
    assert [m["seq"] for m in rest][-1] == len(stored)
    assert_follows(of_workspace, 1, run_id)
    assert worker.poll() is None


async def test_a_lost_notification_connection_is_caught_up(
    server: LiveServer,
    client: httpx.AsyncClient,
    auth_headers: dict[str, str],
    worker: subprocess.Popen[bytes],
) -> None:
    workflow_id = await publish(client, review_then_delays())
    run_id = (await start(client, workflow_id))["id"]
    await wait_for(client, run_id, "waiting", seconds=30)
    async with (
        socket(server, f"/ws/runs/{run_id}", auth_headers) as one_run,
        socket(server, "/ws/stream", auth_headers) as everything,
    ):
        snapshot = await receive(one_run)
        async with server.app.state.db.transaction() as session:
            await session.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = :name AND datname = current_database()"
                ),
                {"name": APPLICATION_NAME},
            )
        await approve(client, run_id)
        rest = await until_closed(one_run, 40)
        assert one_run.close_code == 1000
        await until_closed(everything, 10)
        assert everything.close_code == 1012

    assert_follows(rest, snapshot["seq"] + 1)
    assert [m["seq"] for m in rest][-1] == len(await history(client, run_id))
