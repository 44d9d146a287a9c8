"""Prometheus metrics at /metrics; open unless a metrics token is set."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from towpath.api.deps import DB
from towpath.api.schemas.errors import errors
from towpath.domain.errors import Unauthenticated
from towpath.storage.gauges import read_gauges

if TYPE_CHECKING:
    from towpath.observability.metrics import Metrics

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        **errors(401, 500),
    },
)
async def get_metrics(request: Request, db: DB) -> Response:
    token: str = request.app.state.metrics_token
    if token:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Unauthenticated("/metrics needs `Authorization: Bearer <metrics token>`")
    found: Metrics = request.app.state.metrics
    return Response(found.exposition(await read_gauges(db)), media_type=CONTENT_TYPE_LATEST)
