"""`towpath worker`: a process that only executes runs, its metrics served on a port of its
own when asked, stopping cleanly on a signal (steps in flight finish or are handed back).
A worker started while its database does not answer (at boot, during a restart) waits
for it, as a server's requests do, rather than exiting."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import TYPE_CHECKING

import uvicorn
from fastapi import FastAPI

from towpath.api.routes import health, metrics
from towpath.engine.runner import engine_running
from towpath.observability.metrics import Metrics
from towpath.steps.catalog import default_registry
from towpath.storage.database import Database
from towpath.storage.hook_secrets import seal_plain_secrets
from towpath.storage.secret_keys import load_secret_keys
from towpath.storage.unavailable import database_away
from towpath.storage.waiting import first_line, wait_for_database
from towpath.triggers.outbox import outbox_running
from towpath.triggers.pruner import pruner_running
from towpath.triggers.scheduler import scheduler_running

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from towpath.config import Settings

log = logging.getLogger("towpath.worker")


def metrics_app(db: Database, found: Metrics, token: str) -> FastAPI:
    """/metrics and /health for a process without the API."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.db = db
    app.state.metrics = found
    app.state.metrics_token = token
    app.include_router(metrics.router)
    app.include_router(health.router)
    return app


class _MetricsServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The worker's own signal handlers stop the process; this server stops with it.
        yield


@contextlib.asynccontextmanager
async def _serving(
    app: FastAPI, host: str, port: int | None, keep_alive_seconds: int
) -> AsyncIterator[None]:
    if port is None:
        yield
        return
    # A scraper keeps its connection for the next scrape, as API clients do (see serve).
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, timeout_keep_alive=keep_alive_seconds
    )
    server = _MetricsServer(config)
    task = asyncio.create_task(server.serve())
    try:
        yield
    finally:
        server.should_exit = True
        await task


async def run_worker_process(settings: Settings, metrics_port: int | None = None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    while not stop.is_set():
        started = asyncio.Event()
        try:
            await _work(settings, metrics_port, stop, started)
        except Exception as error:
            # Once started, the engine rides out the database's absences by itself.
            if started.is_set() or not database_away(error):
                raise
            log.warning("the database went away while starting: %s", first_line(error))
            await wait_for_database(settings.database_url)


async def _work(
    settings: Settings, metrics_port: int | None, stop: asyncio.Event, started: asyncio.Event
) -> None:
    db = Database(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        command_timeout=settings.database_command_timeout_seconds,
    )
    found = Metrics()
    app = metrics_app(db, found, settings.metrics_token)
    try:
        keys = await load_secret_keys(db, settings.secrets_key)
        # Signing secrets stored before they were encrypted: encrypted now, once.
        await seal_plain_secrets(db, keys)
        async with (
            engine_running(
                db,
                default_registry(),
                settings,
                with_worker=True,
                secret_keys=keys,
                on_circuit_change=found.circuit_changed,
            ) as runtime,
            scheduler_running(runtime),
            outbox_running(db, runtime.bus, settings, settings, keys),
            pruner_running(
                runtime,
                settings,
                on_pruned=found.runs_pruned.inc,
                key_lock_seconds=settings.idempotency_lock_seconds,
            ),
            _serving(app, settings.host, metrics_port, settings.keep_alive_seconds),
        ):
            runtime.bus.listen(found.on_event)
            started.set()
            await stop.wait()
    finally:
        await db.dispose()
