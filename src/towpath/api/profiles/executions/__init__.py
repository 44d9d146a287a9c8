"""The `executions` profile: the contract of the founding document `002_a25e84c67dcad9b5.txt`.

Its routes answer with towpath's services and state; their shapes, statuses and names are
the document's (`schemas`, `errors`), and its WebSocket is towpath's run stream (`socket`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from towpath.api.deps import current_principal
from towpath.api.profiles.executions import routes, socket

router = APIRouter(tags=["profile: executions"])
# Every HTTP route authenticates its caller, as under towpath's own /api/v1.
router.include_router(routes.router, dependencies=[Depends(current_principal)])
router.include_router(socket.socket_router)
