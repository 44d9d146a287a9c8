"""What every route of the profile shares: its document's statuses (400 for a bad
parameter or an action the run's state does not allow, 404 for a missing resource), its
skip/limit paging, and its list bodies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Query
from pydantic import AfterValidator, Field

from towpath.api.deps import current_principal
from towpath.api.errors import envelope
from towpath.api.profiles.routing import ProfileRoute
from towpath.api.schemas.errors import AUTHENTICATED, errors
from towpath.domain.errors import Conflict, InvalidRequest, TowpathError

if TYPE_CHECKING:
    from fastapi.exceptions import RequestValidationError
    from starlette.requests import Request
    from starlette.responses import Response

# The document: "Default 10 items, max 100 items per request".
DEFAULT_LIMIT = 10
MAX_LIMIT = 100

Skip = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip")]
# A larger limit is not refused: the answer holds at most 100 items and says `limit: 100`.
# The bounds before the cap, so the document names them as JSON Schema does.
Limit = Annotated[
    Annotated[int, Field(ge=1, le=1_000_000)],
    AfterValidator(lambda asked: min(asked, MAX_LIMIT)),
    Query(description="Items to answer; more than 100 answers 100"),
]


class InvalidParameter(InvalidRequest):
    code = "INVALID_PARAMETER"


class ParameterRoute(ProfileRoute):
    """Answers in the document's statuses, which know no 409 or 422 for a parameter: a
    path or query parameter that fails validation is a 400 `INVALID_PARAMETER`, and an
    action the resource's state does not allow is a 400 that keeps towpath's `error_code`.
    A bad body is still a 422."""

    async def invalid(self, request: Request, error: RequestValidationError) -> Response:
        problems = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type")}
            for e in error.errors()
        ]
        if problems and all(p["loc"][:1] in (["query"], ["path"]) for p in problems):
            raise InvalidParameter(
                "a parameter is invalid", details={"errors": problems}
            ) from error
        raise error

    def refused(self, error: TowpathError) -> Response:
        if isinstance(error, Conflict):
            return envelope(400, error.code, error.message, error.details)
        raise error


# Every route authenticates its caller as towpath's own API does; routes then ask for a role.
ROUTER_OPTIONS: dict[str, Any] = {
    "dependencies": [Depends(current_principal)],
    "responses": {**AUTHENTICATED, **errors(400)},
    "route_class": ParameterRoute,
}
