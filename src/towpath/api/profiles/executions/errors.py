"""The document's error statuses, on its routes only: 400 for a request that is not valid
and for an action the execution's state does not allow, 404 `EXECUTION_NOT_FOUND`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from fastapi.exceptions import RequestValidationError

from towpath.api.errors import envelope, headers_of, status_of
from towpath.api.profiles.routing import ProfileRoute
from towpath.api.schemas.errors import Responses, errors
from towpath.domain.errors import TowpathError, Unprocessable
from towpath.domain.states import InvalidTransition
from towpath.engine.human import NoWaitingStep
from towpath.engine.lifecycle import RunStateConflict
from towpath.storage.runs import RunNotFound

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

# "400 - Validation errors, invalid state transitions": towpath says 422 and 409.
AS_BAD_REQUEST: Final = (Unprocessable, RunStateConflict, NoWaitingStep, InvalidTransition)

# Every route of the document: who may call, and the 400 that replaces 422. A 422 is
# still possible: text holding a NUL character is refused before any route reads it.
COMMON: Responses = {
    **errors(400, 401, 403, 429, 500),
    422: {
        **errors(422)[422],
        "description": "Only text holding a NUL character, refused before the route reads"
        " the request; any other invalid parameter or body is a 400",
    },
}
BAD_REQUEST_MEANING = (
    "The request is not valid (`details.errors` says where), or the execution's state"
    " does not allow the action"
)
COMMON[400] = {**COMMON[400], "description": BAD_REQUEST_MEANING}
WITH_BODY: Responses = errors(413, 415)


class ExecutionsRoute(ProfileRoute):
    """Answers its errors in the document's statuses; the envelope stays towpath's."""

    async def invalid(self, request: Request, error: RequestValidationError) -> Response:
        return await _invalid(request, error)

    def refused(self, error: TowpathError) -> Response:
        return _translated(error)


async def _invalid(request: Request, invalid: RequestValidationError) -> Response:
    # The app's own answer (malformed JSON, a body that is not JSON), at 400, not 422.
    answered: Response = await request.app.exception_handlers[RequestValidationError](
        request, invalid
    )
    if answered.status_code == 422:
        answered.status_code = 400
    return answered


def _translated(error: TowpathError) -> Response:
    if isinstance(error, RunNotFound):
        run_id = error.details.get("id")
        return envelope(
            404, "EXECUTION_NOT_FOUND", f"execution {run_id!r} not found", error.details
        )
    status = 400 if isinstance(error, AS_BAD_REQUEST) else status_of(error)
    return envelope(status, error.code, error.message, error.details, headers_of(error))
