"""What every route of the profile shares: its document's 400 for a bad parameter, its
skip/limit paging, and its list bodies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Query
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from towpath.api.deps import current_principal
from towpath.api.schemas.errors import AUTHENTICATED, errors
from towpath.domain.errors import InvalidRequest

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from starlette.requests import Request
    from starlette.responses import Response

# The document: 10 items by default, 100 at most.
DEFAULT_LIMIT = 10
MAX_LIMIT = 100

Skip = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items to answer, at most 100")]


class InvalidParameter(InvalidRequest):
    code = "INVALID_PARAMETER"


class ParameterRoute(APIRoute):
    """Answers a path or query parameter that fails validation with 400, as the document
    does, where towpath's own API says 422; a bad body is still a 422."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as invalid:
                problems = [
                    {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type")}
                    for e in invalid.errors()
                ]
                if problems and all(p["loc"][:1] in (["query"], ["path"]) for p in problems):
                    raise InvalidParameter(
                        "a parameter is invalid", details={"errors": problems}
                    ) from invalid
                raise

        return handle


# Every route authenticates its caller as towpath's own API does; routes then ask for a role.
ROUTER_OPTIONS: dict[str, Any] = {
    "dependencies": [Depends(current_principal)],
    "responses": {**AUTHENTICATED, **errors(400)},
    "route_class": ParameterRoute,
}
