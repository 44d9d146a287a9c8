"""The web console at /ui: static files built from `console/` and shipped inside the package."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Route

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

# Built by scripts/console-build (Vite writes here); committed, so no Node is needed to run.
BUILT = Path(__file__).resolve().parent.parent / "console"
# Vite names each asset after a hash of its content: a name never changes meaning.
IMMUTABLE = "public, max-age=31536000, immutable"
# The page itself names the current assets, so it is checked again on every load.
REVALIDATE = "no-cache"
# The console loads only its own files and talks only to its own origin (HTTP and sockets).
# React Flow positions nodes with style attributes, hence 'unsafe-inline' for styles only.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
MISSING = (
    "The console's files are not built into this installation (no index.html in {where}).\n"
    "From a source checkout, run scripts/console-build; an installed wheel ships them.\n"
)


def console_routes(built: Path = BUILT) -> list[BaseRoute]:
    """The routes serving the console's built files. The files are listed once, here: they
    are fixed for the life of an installation, and a request then touches no disk to route."""
    index = built / "index.html"
    assets = _assets(built)

    async def page(request: Request) -> Response:
        if not assets:
            return PlainTextResponse(
                MISSING.format(where=built), status_code=503, headers=SECURITY_HEADERS
            )
        path = request.path_params.get("path", "")
        if path.startswith("assets/"):
            if path not in assets:
                raise HTTPException(404, f"no console asset {path!r}")
            return FileResponse(
                assets[path], headers={**SECURITY_HEADERS, "Cache-Control": IMMUTABLE}
            )
        # Every other path is a page of the console's own router: the same document answers.
        return FileResponse(
            index,
            media_type="text/html; charset=utf-8",
            headers={**SECURITY_HEADERS, "Cache-Control": REVALIDATE},
        )

    async def to_page(_: Request) -> Response:
        return RedirectResponse("/ui/", status_code=308)

    return [
        Route("/ui", to_page, methods=["GET", "HEAD"], include_in_schema=False),
        Route("/ui/", page, methods=["GET", "HEAD"], include_in_schema=False),
        Route("/ui/{path:path}", page, methods=["GET", "HEAD"], include_in_schema=False),
    ]


def _assets(built: Path) -> dict[str, Path]:
    """Each built asset by its path under /ui/; empty when the console was not built."""
    if not (built / "index.html").is_file():
        return {}
    return {
        file.relative_to(built).as_posix(): file
        for file in (built / "assets").rglob("*")
        if file.is_file()
    }
