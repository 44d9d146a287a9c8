"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request

from towpath import __version__
from towpath.api.deps import DB
from towpath.api.errors import envelope
from towpath.api.schemas.errors import Responses, errors
from towpath.services import readiness

router = APIRouter(tags=["health"])
READY: Responses = {
    200: {
        "description": "Every dependency answers",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "status": {"const": "ready"},
                        "checks": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                    "required": ["status", "checks"],
                }
            }
        },
    }
}


@router.get("/health", responses=errors(500))
async def get_health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/health/ready", responses={**READY, **errors(500, 503)})
async def get_readiness(db: DB, request: Request) -> object:
    auth = getattr(request.app.state, "authenticator", None)
    jwks = auth.verifier.jwks if auth is not None and auth.verifier is not None else None
    checks = await readiness.check(db, jwks)
    down = {name: state for name, state in checks.items() if state != readiness.OK}
    if down:
        return envelope(503, "NOT_READY", f"not ready: {', '.join(sorted(down))}", down)
    return {"status": "ready", "checks": checks}
