"""API keys of the caller's workspace: issued, listed and revoked by admins."""

from __future__ import annotations

from fastapi import APIRouter, Response

from towpath.api.access import Notices
from towpath.api.deps import DB, Admin, Paging
from towpath.api.responses import set_total
from towpath.api.schemas.access import ApiKeyCreate, ApiKeyCreated, ApiKeyResponse
from towpath.services import api_keys as service

router = APIRouter(prefix="/api-keys", tags=["access"])


@router.get("")
async def list_api_keys(
    db: DB, caller: Admin, page: Paging, response: Response
) -> list[ApiKeyResponse]:
    found = await service.list_keys(db, caller, page)
    set_total(response, found)
    return [ApiKeyResponse.model_validate(key) for key in found.items]


@router.post("", status_code=201)
async def create_api_key(body: ApiKeyCreate, db: DB, caller: Admin) -> ApiKeyCreated:
    issued = await service.issue_key(db, caller, body.name, body.role, body.expires_at)
    shown = ApiKeyResponse.model_validate(issued.key).model_dump()
    return ApiKeyCreated(**shown, key=issued.plaintext)


@router.get("/{key_id}")
async def get_api_key(key_id: str, db: DB, caller: Admin) -> ApiKeyResponse:
    return ApiKeyResponse.model_validate(await service.get_key(db, caller, key_id))


@router.delete("/{key_id}")
async def revoke_api_key(key_id: str, db: DB, caller: Admin, notices: Notices) -> ApiKeyResponse:
    """Revoke a key: requests with it are refused, and the streams it opened close (4401)."""
    return ApiKeyResponse.model_validate(await service.revoke_key(db, caller, key_id, notices))
