"""Which methods a path serves: the `Allow` header of a 405, and the answer to OPTIONS."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response
from starlette.routing import Match

if TYPE_CHECKING:
    from starlette.requests import Request

_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> str:
    """Every method some route serves at the request's path. The router names only the
    methods of the first route it matched: `GET` where `GET, POST` are served."""
    routes = request.app.router.routes
    served = {
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    }
    return ", ".join(sorted(served | {"OPTIONS"}))


def options_response(allow: str, request_id: str) -> Response:
    return Response(status_code=204, headers={"Allow": allow, "X-Request-ID": request_id})
