"""The application factory: settings in, a FastAPI app out."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from towpath import __version__
from towpath.api.body_limit import BodyLimitMiddleware
from towpath.api.errors import install_error_handlers
from towpath.api.request_id import RequestIdMiddleware
from towpath.api.routes import catalog, events, health, runs, streams, workflows
from towpath.api.schemas.catalog import StepCatalogEntry
from towpath.auth.principal import Principal
from towpath.domain.validation import DefinitionLimits
from towpath.engine.runner import engine_running
from towpath.events.streams import streams_running
from towpath.services.idempotency import IdempotencyPolicy
from towpath.services.workflows import WorkflowRules
from towpath.steps.catalog import default_registry
from towpath.storage.database import Database
from towpath.storage.workspaces import ensure_workspace

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from towpath.config import Settings


def create_app(settings: Settings) -> FastAPI:
    registry = default_registry()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
        async with db.transaction() as session:
            workspace = await ensure_workspace(session)
        app.state.db = db
        app.state.local_principal = Principal("local", workspace.id, "admin")
        try:
            async with engine_running(
                db, registry, settings, with_worker=settings.run_worker
            ) as rt:
                app.state.runtime = rt
                async with streams_running(app, rt, settings):
                    yield
        finally:
            await db.dispose()

    app = FastAPI(
        title="towpath",
        version=__version__,
        description="Self-hosted workflow orchestration: durable runs, live events, human steps.",
        lifespan=lifespan,
    )
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
    )
    install_error_handlers(app)
    api = APIRouter(prefix="/api/v1")
    api.include_router(workflows.router)
    api.include_router(runs.router)
    api.include_router(events.router)
    api.include_router(catalog.router)
    api.include_router(streams.api_router)
    app.include_router(api)
    app.include_router(streams.socket_router)
    app.include_router(health.router)
    # Outermost last: the request id must be set before anything can answer.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["X-Request-ID", "X-Total-Count", "Idempotent-Replayed"],
    )
    app.add_middleware(RequestIdMiddleware)
    return app
