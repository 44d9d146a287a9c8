"""API keys of the caller's workspace: issued, listed and revoked by admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from towpath.api.access import Notices
from towpath.api.deps import DB, Admin, Idempotency, Rules
from towpath.api.paging import paging
from towpath.api.responses import LISTED, set_total
from towpath.api.schemas.access import ApiKeyCreate, ApiKeyCreated, ApiKeyResponse
from towpath.api.schemas.errors import WITH_BODY, Responses, errors
from towpath.api.schemas.links import described, links
from towpath.services import api_keys as service
from towpath.storage.api_keys import SORTABLE
from towpath.storage.pagination import PageRequest

router = APIRouter(prefix="/api-keys", tags=["access"])
KeyPages = Annotated[PageRequest, paging(SORTABLE, "-created_at")]
ISSUED: Responses = {
    201: described("The new key", with_links=links("key_id", "get_api_key", "revoke_api_key")),
    # A repeat with the same idempotency key: the key, shown once, cannot be shown again.
    **errors(409),
}


@router.get("", responses=LISTED)
async def list_api_keys(
    db: DB, caller: Admin, page: KeyPages, response: Response
) -> list[ApiKeyResponse]:
    found = await service.list_keys(db, caller, page)
    set_total(response, found)
    return [ApiKeyResponse.model_validate(key) for key in found.items]


@router.post("", status_code=201, responses={**ISSUED, **WITH_BODY})
async def create_api_key(
    body: ApiKeyCreate, db: DB, caller: Admin, rules: Rules, key: Idempotency
) -> ApiKeyCreated:
    """A new key of the caller's workspace; `expires_at`, if given, must be in the future
    (else 422). Repeated with the same `X-Idempotency-Key`, it issues no second key: the
    answer is a 409 `API_KEY_ALREADY_ISSUED` naming the first, whose secret was shown once."""
    issued = await service.issue_key(
        db, caller, body.name, body.role, body.expires_at, key, rules.idempotency
    )
    shown = ApiKeyResponse.model_validate(issued.key).model_dump()
    return ApiKeyCreated(**shown, key=issued.plaintext)


@router.get("/{key_id}", responses=errors(404))
async def get_api_key(key_id: str, db: DB, caller: Admin) -> ApiKeyResponse:
    return ApiKeyResponse.model_validate(await service.get_key(db, caller, key_id))


@router.delete("/{key_id}", responses=errors(404))
async def revoke_api_key(key_id: str, db: DB, caller: Admin, notices: Notices) -> ApiKeyResponse:
    """Revoke a key: requests with it are refused, and the streams it opened close (4401);
    revoking it again changes nothing."""
    return ApiKeyResponse.model_validate(await service.revoke_key(db, caller, key_id, notices))
