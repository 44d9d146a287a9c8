"""A route that answers its errors in its document's shape: each profile says how an
invalid request and a refused one are told, and towpath's handlers take the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from towpath.domain.errors import TowpathError

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from starlette.requests import Request
    from starlette.responses import Response


class ProfileRoute(APIRoute):
    """Calls `invalid` for a request that fails validation and `refused` for a towpath
    error; each answers, or raises for towpath's own handlers to answer."""

    async def invalid(self, request: Request, error: RequestValidationError) -> Response:
        raise error

    def refused(self, error: TowpathError) -> Response:
        raise error

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as error:
                return await self.invalid(request, error)
            except TowpathError as error:
                return self.refused(error)

        return answer
