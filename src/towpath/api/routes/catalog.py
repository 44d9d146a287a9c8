"""The step catalog."""

from __future__ import annotations

from fastapi import APIRouter, Request

from towpath.api.deps import Viewer
from towpath.api.schemas.catalog import StepCatalogEntry

router = APIRouter(prefix="/catalog", tags=["catalog"])


@router.get("/steps")
async def list_step_types(request: Request, caller: Viewer) -> list[StepCatalogEntry]:
    catalog: list[StepCatalogEntry] = request.app.state.step_catalog
    return catalog
