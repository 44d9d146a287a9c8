"""The caller itself: which workspace, which role, which credential."""

from __future__ import annotations

from fastapi import APIRouter

from towpath.api.deps import DB, Viewer
from towpath.api.schemas.callers import CallerResponse
from towpath.services.callers import describe_caller

router = APIRouter(tags=["access"])


@router.get("/me")
async def get_me(db: DB, caller: Viewer) -> CallerResponse:
    """Who the credential stands for, for any role: a client shows only what it allows."""
    return CallerResponse.model_validate(await describe_caller(db, caller))
