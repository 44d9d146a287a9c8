"""Secrets of the caller's workspace: editors manage them, viewers see their names."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from towpath.api.deps import DB, Editor, Keys, Viewer
from towpath.api.paging import paging
from towpath.api.responses import LISTED, set_total
from towpath.api.schemas.errors import WITH_BODY, errors
from towpath.api.schemas.secrets import SecretCreate, SecretResponse, SecretRotate
from towpath.services import secrets as service
from towpath.storage.pagination import PageRequest
from towpath.storage.secrets_store import SORTABLE

router = APIRouter(prefix="/secrets", tags=["secrets"])
SecretPages = Annotated[PageRequest, paging(SORTABLE, "name")]


@router.get("", responses=LISTED)
async def list_secrets(
    db: DB, caller: Viewer, page: SecretPages, response: Response
) -> list[SecretResponse]:
    """Names and metadata; values are never returned."""
    found = await service.list_secrets(db, caller, page)
    set_total(response, found)
    return [SecretResponse.model_validate(secret) for secret in found.items]


@router.post("", status_code=201, responses={**WITH_BODY, **errors(409)})
async def create_secret(body: SecretCreate, db: DB, keys: Keys, caller: Editor) -> SecretResponse:
    """Store a value, encrypted; templates read it as `{{ secrets.NAME }}`. No
    `X-Idempotency-Key`: its record would keep a digest of the body, the value in it; a
    repeated name is a 409 instead."""
    new = service.NewSecret(body.name, body.value, body.description)
    return SecretResponse.model_validate(await service.create(db, keys, caller, new))


@router.get("/{name}", responses=errors(404))
async def get_secret(name: str, db: DB, caller: Viewer) -> SecretResponse:
    return SecretResponse.model_validate(await service.get(db, caller, name))


@router.post("/{name}/rotate", responses={**WITH_BODY, **errors(404)})
async def rotate_secret(
    name: str, body: SecretRotate, db: DB, keys: Keys, caller: Editor
) -> SecretResponse:
    """Replace the value; steps that start after this read the new one."""
    return SecretResponse.model_validate(await service.rotate(db, keys, caller, name, body.value))


@router.delete("/{name}", status_code=204, responses=errors(404))
async def delete_secret(name: str, db: DB, caller: Editor) -> Response:
    await service.delete(db, caller, name)
    return Response(status_code=204)
