"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError

from towpath import __version__
from towpath.api.deps import DB
from towpath.api.errors import envelope

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/health/ready", responses={503: {"description": "A dependency is down"}})
async def ready(db: DB) -> object:
    try:
        await db.ping()
    except (SQLAlchemyError, OSError) as exc:
        return envelope(
            503, "NOT_READY", "the database is not reachable", {"database": str(type(exc).__name__)}
        )
    return {"status": "ready", "checks": {"database": "ok"}}
