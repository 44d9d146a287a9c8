"""The application factory: settings in, a FastAPI app out, wired to the engine, the
authenticator and the live streams it starts and stops with its lifespan."""

from __future__ import annotations

import functools
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from towpath import __version__
from towpath.api import route_index
from towpath.api.body_limit import BodyLimitMiddleware
from towpath.api.console import console_routes
from towpath.api.cors import EnvelopedCORSMiddleware
from towpath.api.deps import current_principal
from towpath.api.errors import install_error_handlers
from towpath.api.observe import ObserveMiddleware
from towpath.api.openapi import install_openapi, operation_id
from towpath.api.profiles import profile_routers
from towpath.api.profiles.tasks.events import task_events
from towpath.api.rate_limit import AddressLimitMiddleware, RateLimiter
from towpath.api.request_data import RequestDataMiddleware
from towpath.api.request_id import RequestIdMiddleware
from towpath.api.routes import (
    agents,
    api_keys,
    audit,
    catalog,
    events,
    groups,
    health,
    hooks,
    inbox,
    me,
    members,
    metrics,
    queues,
    retention,
    run_deletion,
    run_pauses,
    runs,
    schedules,
    stats,
    step_callbacks,
    stream_tokens,
    streams,
    subscriptions,
    webhooks,
    workflows,
)
from towpath.api.routes import secrets as secret_routes
from towpath.api.schemas.catalog import StepCatalogEntry
from towpath.api.schemas.errors import AUTHENTICATED, errors
from towpath.auth.authenticator import authenticator_running
from towpath.auth.stream_tokens import StreamTokens
from towpath.domain.clock import utcnow
from towpath.domain.validation import DefinitionLimits
from towpath.engine.runner import engine_running
from towpath.events.access import AccessNotices
from towpath.events.hub import EventHub
from towpath.events.sends import SendWatch
from towpath.events.streams import Streams
from towpath.observability.metrics import Metrics
from towpath.services.agent_health import agent_health_running
from towpath.services.idempotency import IdempotencyPolicy
from towpath.services.queue_waiters import QueueWaiters
from towpath.services.workflows import WorkflowRules
from towpath.steps.catalog import default_registry
from towpath.storage.database import Database
from towpath.storage.hook_secrets import seal_plain_secrets
from towpath.storage.secret_keys import load_secret_keys
from towpath.storage.secrets import server_secret
from towpath.storage.workspaces import ensure_workspace
from towpath.triggers.outbox import outbox_running
from towpath.triggers.pruner import pruner_running
from towpath.triggers.scheduler import scheduler_running

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from starlette.routing import BaseRoute

    from towpath.config import Settings
    from towpath.engine.runtime import Runtime


def create_app(settings: Settings, *, started: Callable[[], None] | None = None) -> FastAPI:
    """`started` is called once start-up is done, before the first request: the serving
    process tunes itself there (an app made by a test or an embedder is left alone)."""
    registry = default_registry()
    metrics_registry = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(
            settings.database_url,
            sqlite_synchronous=settings.sqlite_synchronous,
            pool_timeout=settings.database_pool_timeout_seconds,
            command_timeout=settings.database_command_timeout_seconds,
        )
        async with db.transaction() as session:
            await ensure_workspace(session)
        app.state.db = db
        secret = await server_secret(db, "stream_tokens")
        lifetime = timedelta(seconds=settings.stream_token_seconds)
        app.state.stream_tokens = StreamTokens(secret, lifetime, utcnow)
        keys = app.state.secret_keys = await load_secret_keys(db, settings.secrets_key)
        # Signing secrets stored before they were encrypted: encrypted now, once.
        await seal_plain_secrets(db, keys)
        try:
            async with (
                authenticator_running(db, settings) as authenticator,
                engine_running(
                    db,
                    registry,
                    settings,
                    with_worker=settings.run_worker,
                    secret_keys=keys,
                    on_circuit_change=metrics_registry.circuit_changed,
                ) as rt,
                # Ticks are taken wherever runs are worked on.
                scheduler_running(rt, enabled=settings.run_worker),
                # Outgoing webhooks go out from every process that runs a worker.
                outbox_running(db, rt.bus, settings, settings, keys, enabled=settings.run_worker),
                # Finished runs past their retention policy go where the scheduler runs.
                pruner_running(
                    rt,
                    settings,
                    enabled=settings.run_worker,
                    on_pruned=metrics_registry.runs_pruned.inc,
                    key_lock_seconds=settings.idempotency_lock_seconds,
                ),
                agent_health_running(
                    db,
                    settings,
                    interval=settings.agent_health_interval_seconds,
                    keep=settings.agent_health_keep,
                    on_check=metrics_registry.agent_checked,
                ) as agent_health,
            ):
                app.state.agent_health = agent_health
                app.state.authenticator = authenticator
                app.state.runtime = rt
                stop_counting = rt.bus.listen(metrics_registry.on_event)
                stop_waking = rt.bus.listen(app.state.queue_waiters.on_event)
                try:
                    async with streams_running(app, rt, settings):
                        if started is not None:
                            started()
                        yield
                finally:
                    stop_waking()
                    stop_counting()
        finally:
            await db.dispose()

    app = FastAPI(
        title="towpath",
        version=__version__,
        description="Self-hosted workflow orchestration: durable runs, live events, human steps.",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    app.state.metrics = metrics_registry
    # /ws/runs and /ws/stream add document 004's events of task runs for its clients (`?events=`).
    app.state.feed_adapter = task_events if "tasks" in settings.profiles else None
    app.state.queue_waiters = QueueWaiters(settings.queue_poll_max_wait_seconds)
    app.state.metrics_token = settings.metrics_token
    app.state.step_catalog = [StepCatalogEntry(**entry) for entry in registry.catalog()]
    app.state.workflow_rules = WorkflowRules(
        specs=registry.specs(),
        limits=DefinitionLimits(
            max_nodes=settings.max_definition_nodes,
            max_edges=settings.max_definition_edges,
            max_bytes=settings.max_definition_bytes,
        ),
        idempotency=IdempotencyPolicy(
            ttl=timedelta(hours=settings.idempotency_ttl_hours),
            lock_timeout=timedelta(seconds=settings.idempotency_lock_seconds),
        ),
        allow_recursion=settings.allow_recursive_workflows,
    )
    app.state.credential_limiter = RateLimiter(
        settings.rate_limit_credential_per_minute, settings.rate_limit_credential_burst
    )
    install_error_handlers(app)
    app.router.routes.extend(api_routes(settings.profiles))
    app.router.routes.extend(console_routes())
    route_index.install(app.router)
    # The routes of one profile set are built once a process, so their document is too.
    install_openapi(app, app.state.workflow_rules.limits, routes_key=settings.profiles)
    # Outermost last: the request id must be set before anything can answer, and a body
    # is checked as data only within the size limit.
    app.add_middleware(RequestDataMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(
        AddressLimitMiddleware,
        limiter=RateLimiter(
            settings.rate_limit_address_per_minute, settings.rate_limit_address_burst
        ),
    )
    app.add_middleware(
        EnvelopedCORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=[
            "X-Request-ID",
            "X-Total-Count",
            "X-Total-Count-Exact",
            "Idempotent-Replayed",
            "Retry-After",
        ],
    )
    app.add_middleware(ObserveMiddleware, metrics=metrics_registry)
    app.add_middleware(RequestIdMiddleware)
    if settings.trusted_proxies:
        # Outermost: the address everything else sees is the trusted proxy's word for it.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app


@functools.cache
def api_routes(profiles: frozenset[str] = frozenset()) -> tuple[BaseRoute, ...]:
    """Every route of the API, built once a process. FastAPI analyses each route's parameters
    and models when a router is included (about a second of CPU for all of them): an app
    made again (each test makes one, an embedder may) shares the routes already built,
    which hold no state of any app."""
    top = APIRouter(generate_unique_id_function=operation_id)
    # Every route under /api/v1 authenticates its caller; routes then ask for a role. Each
    # router is included at the top, not within an /api/v1 router: a request is matched
    # against every router's routes at each level of nesting, more than once.
    for router in (
        workflows,
        runs,
        run_pauses,
        stats,
        events,
        catalog,
        api_keys,
        members,
        audit,
        stream_tokens,
        webhooks,
        schedules,
        subscriptions,
        agents,
        secret_routes,
        queues,
        retention,
        run_deletion,
        groups,
        inbox,
        me,
    ):
        top.include_router(
            router.router,
            prefix="/api/v1",
            dependencies=[Depends(current_principal)],
            responses=AUTHENTICATED,
        )
    # Authenticates on its own: an EventSource may bring a stream token in the URL.
    stream_errors = {**AUTHENTICATED, **errors(400, 404)}
    top.include_router(streams.api_router, prefix="/api/v1", responses=stream_errors)
    top.include_router(streams.socket_router)
    top.include_router(inbox.socket_router)
    # Authenticates on its own: a webhook delivery's signature is its credential.
    top.include_router(hooks.router, prefix="/api/v1")
    # Authenticates on its own: the token sent with an agent call is the callback's credential.
    top.include_router(step_callbacks.router, prefix="/api/v1")
    top.include_router(health.router)
    top.include_router(metrics.router)
    for profile in profile_routers(profiles):
        top.include_router(profile)
    return tuple(top.routes)


@asynccontextmanager
async def streams_running(
    app: FastAPI, runtime: Runtime, settings: Settings
) -> AsyncIterator[None]:
    """Live event streams, started and stopped with the application."""
    hub = EventHub(runtime.db, settings.stream_queue_size)
    stop_listening = runtime.bus.listen_all(hub.accept_all)
    # Access that ends (a key revoked, a member removed) is forgotten by the authenticator
    # and ends the streams it opened; the use cases that end it announce it here.
    access = AccessNotices()
    authenticator = app.state.authenticator
    access.listen(authenticator.access_changed, authenticator.forget_all)
    access.listen(hub.access_changed, lambda: hub.access_missed(authenticator.grant_ended))
    app.state.access_notices = access
    # Other processes' events arrive by NOTIFY; on SQLite one process writes them all.
    listener = None
    if not settings.is_sqlite:
        # Imported here: a process on the embedded default never loads the PostgreSQL driver.
        from towpath.events.listener import NotificationListener

        listener = NotificationListener(
            settings.database_url, hub, settings.stream_heartbeat_seconds, access
        )
    # Pings and credential expiries are noticed within a quarter heartbeat (a second at most).
    hub.start(min(settings.stream_heartbeat_seconds / 4, 1.0))
    app.state.event_hub = hub
    sends = SendWatch(settings.stream_send_timeout_seconds)
    app.state.streams = Streams(
        hub, settings, sends, tuple(settings.cors_origins), authenticator.grant_ended
    )
    try:
        if listener is not None:
            await listener.start()
        yield
    finally:
        stop_listening()
        if listener is not None:
            await listener.stop()
        await hub.close()
        await sends.close()
