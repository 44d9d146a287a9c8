"""CORS as Starlette does it, but a refused preflight answers in the error envelope."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.middleware.cors import CORSMiddleware

from towpath.api.errors import envelope

if TYPE_CHECKING:
    from starlette.datastructures import Headers
    from starlette.responses import Response

_REFUSED_PREFIX = "Disallowed CORS "


class EnvelopedCORSMiddleware(CORSMiddleware):
    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        # Starlette names what it refused in its plain-text body: origin, method, headers.
        refused = bytes(response.body).decode().removeprefix(_REFUSED_PREFIX).split(", ")
        origin = request_headers.get("origin", "")
        message = f"the CORS preflight from {origin!r} is refused: its {', '.join(refused)}"
        cors_headers = {
            name: value
            for name, value in response.headers.items()
            if name.startswith("access-control-") or name == "vary"
        }
        details = {"origin": origin, "refused": refused}
        return envelope(403, "CORS_REFUSED", message, details, headers=cors_headers)
