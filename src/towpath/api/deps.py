"""Typed dependencies every route shares."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Query, Request

from towpath.auth.principal import Principal
from towpath.domain.errors import InvalidRequest
from towpath.services.idempotency import IdempotencyRequest
from towpath.services.runtime import Runtime
from towpath.services.workflows import WorkflowRules
from towpath.storage.database import Database
from towpath.storage.pagination import PageRequest

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


async def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def current_principal(request: Request) -> Principal:
    # Until credentials are checked, every caller acts in the default workspace.
    principal: Principal = request.app.state.local_principal
    return principal


async def workflow_rules(request: Request) -> WorkflowRules:
    rules: WorkflowRules = request.app.state.workflow_rules
    return rules


async def runtime(request: Request) -> Runtime:
    found: Runtime = request.app.state.runtime
    return found


async def page_request(
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
    sort: Annotated[
        str | None, Query(max_length=64, description="field, `-field` descending")
    ] = None,
) -> PageRequest:
    return PageRequest(page=page, per_page=per_page, sort=sort)


async def idempotency_request(
    request: Request,
    x_idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> IdempotencyRequest | None:
    if x_idempotency_key is None:
        return None
    if not _KEY.match(x_idempotency_key):
        raise InvalidRequest(
            "X-Idempotency-Key must be 1-255 visible ASCII characters",
            details={"header": "X-Idempotency-Key"},
        )
    operation = f"{request.method} {request.url.path}"
    return IdempotencyRequest(key=x_idempotency_key, operation=operation)


DB = Annotated[Database, Depends(database)]
Caller = Annotated[Principal, Depends(current_principal)]
Rules = Annotated[WorkflowRules, Depends(workflow_rules)]
RuntimeDep = Annotated[Runtime, Depends(runtime)]
Paging = Annotated[PageRequest, Depends(page_request)]
Idempotency = Annotated[IdempotencyRequest | None, Depends(idempotency_request)]
