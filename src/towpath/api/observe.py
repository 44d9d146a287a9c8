"""Times every HTTP request: a latency histogram by route template, and one log line."""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from towpath.observability.metrics import Metrics

log = logging.getLogger("towpath.http")
_PARAMETER = re.compile(r"\\{[^/]+?\\}")


Routes = dict[int, list[tuple[re.Pattern[str], str]]]


def route_patterns(app: Any) -> Routes:
    """Each documented path template of the app, as a pattern matching its paths, by how
    many segments it has: a path is tried against a few templates, not all of them."""
    templates = [*app.openapi().get("paths", {}), "/docs", "/redoc", "/openapi.json"]
    routes: Routes = {}
    for template in templates:
        pattern = re.compile("^" + _PARAMETER.sub("[^/]+", re.escape(template)) + "$")
        routes.setdefault(template.count("/"), []).append((pattern, template))
    return routes


class ObserveMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._routes: Routes | None = None

    def route_of(self, scope: Scope) -> str:
        # The template (/api/v1/runs/{run_id}), never the raw path: ids would make a time
        # series per run.
        if self._routes is None:
            self._routes = route_patterns(scope["app"])
        path: str = scope["path"]
        candidates = self._routes.get(path.count("/"), ())
        return next((t for pattern, t in candidates if pattern.match(path)), "unmatched")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            seconds = time.perf_counter() - started
            route = self.route_of(scope)
            method = scope["method"]
            self.metrics.http_duration.labels(method, route, str(status)).observe(seconds)
            path: str = scope["path"]
            level = logging.DEBUG if path.startswith(("/health", "/metrics")) else logging.INFO
            if log.isEnabledFor(level):
                log.log(
                    level,
                    "%s %s %s",
                    method,
                    path,
                    status,
                    extra={
                        "route": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 2),
                    },
                )
