"""Routing in a few dictionary lookups instead of a scan of every route.

FastAPI matches a request against each included router in turn and, within it, against
each of its routes (twice for the router that matches): about a hundred and fifty regular
expressions and as many scope updates before `/health` is found, a third of what the
request costs. Every route path begins with literal segments (`/api/v1/runs/{run_id}`
begins with `api`, `v1`, `runs`), and a route can only match a path that begins with the
same ones. The index files each top-level route under its paths' literal beginnings; a
request walks its own first segments down that tree and is routed by FastAPI's own router
among only the routes filed on the way, in their order. A path no route can match (a 404,
a trailing slash to redirect) goes to the whole router, which answers as it always has."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import APIRouter
from starlette._utils import get_route_path

if TYPE_CHECKING:
    from collections.abc import Iterable

    from starlette.routing import BaseRoute
    from starlette.types import Receive, Scope, Send

DEPTH = 3  # /api/v1/<resource>: deeper segments are ids, whose routes the router tells apart


@dataclass
class _Node:
    filed: list[int] = field(default_factory=list)  # routes whose beginning ends here
    below: dict[str, _Node] = field(default_factory=dict)
    router: APIRouter = field(default_factory=APIRouter)  # replaced when the index is built


class RouteIndex:
    """The ASGI app of `router`, routing through the index; built again if routes are added."""

    def __init__(self, router: APIRouter) -> None:
        self._router = router
        self._whole = router.app
        self._built_for = -1
        self._root = _Node()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._whole(scope, receive, send)
            return
        node = self._current()
        for segment in get_route_path(scope).split("/", DEPTH + 1)[1 : DEPTH + 1]:
            deeper = node.below.get(segment)
            if deeper is None:
                break
            node = deeper
        scope.setdefault("router", self._router)
        await node.router.app(scope, receive, send)

    def everywhere(self) -> list[BaseRoute]:
        """The routes whose paths could not be told: each is tried for every request."""
        return [self._router.routes[i] for i in self._current().filed]

    def _current(self) -> _Node:
        """The index's root, built again first if routes were added since."""
        if len(self._router.routes) != self._built_for:
            self._build()
        return self._root

    def _build(self) -> None:
        routes = list(self._router.routes)
        root = _Node()
        for position, route in enumerate(routes):
            for beginning in {_beginning(path) for path in _paths(route)}:
                node = root
                for segment in beginning:
                    node = node.below.setdefault(segment, _Node())
                node.filed.append(position)
        self._give_routers(root, routes, [])
        self._root = root
        self._built_for = len(routes)

    def _give_routers(self, node: _Node, routes: list[BaseRoute], above: list[int]) -> None:
        filed = sorted({*above, *node.filed})
        router = APIRouter(redirect_slashes=False)
        router.form_limits = self._router.form_limits
        router.routes = [routes[i] for i in filed]
        # What none of these routes matches, the whole router answers: 404, 405 or a redirect.
        router.default = self._whole
        node.router = router
        for child in node.below.values():
            self._give_routers(child, routes, filed)


def _paths(route: BaseRoute) -> Iterable[str | None]:
    """The full path of every endpoint `route` serves; None where one cannot be told."""
    contexts = getattr(route, "effective_route_contexts", None)
    if contexts is None:
        yield getattr(route, "path_format", None)
        return
    for context in contexts():
        starlette_route = getattr(context, "starlette_route", None)
        yield getattr(context, "path_format", None) or getattr(starlette_route, "path_format", None)


def _beginning(path: str | None) -> tuple[str, ...]:
    """The literal segments a path begins with, at most DEPTH; none for a path not known
    (its route is then a candidate for every request)."""
    if path is None or not path.startswith("/"):
        return ()
    literal: list[str] = []
    for segment in path.split("/")[1 : DEPTH + 1]:
        if "{" in segment:
            break
        literal.append(segment)
    return tuple(literal)


def install(router: APIRouter) -> None:
    """Route `router`'s requests through the index. Its ASGI entry must be the plain router:
    a wrapper FastAPI put there (a body limit) would be bypassed, so that fails loudly."""
    if router.middleware_stack != router.app:
        raise RuntimeError("the router is wrapped: routing through the index would bypass it")
    router.middleware_stack = RouteIndex(router)
