"""What the client raises: the server's error envelope, or no answer at all."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx


class TowpathError(Exception):
    """The server refused a request: its envelope (`error_code`, `message`, `details`,
    `request_id`) and HTTP status. A request that got no answer is an `error_code` of
    `UNREACHABLE` with status 0; a stream refused or closed for good, its close code."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        details: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(f"{status} {error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.details = details or {}
        self.request_id = request_id

    @classmethod
    def of(cls, response: httpx.Response) -> TowpathError:
        """The envelope of an error response; a body that is not one (a proxy's page)
        keeps its first characters as the message."""
        try:
            body = response.json()
        except ValueError:
            body = None
        request_id = response.headers.get("x-request-id")
        if not isinstance(body, dict) or "error_code" not in body:
            text = response.text[:200] or response.reason_phrase
            return cls(response.status_code, "HTTP_ERROR", text, {}, request_id)
        details = body.get("details")
        return cls(
            response.status_code,
            str(body["error_code"]),
            str(body.get("message", "")),
            details if isinstance(details, dict) else {},
            str(body.get("request_id") or request_id or "") or None,
        )

    @classmethod
    def unreachable(cls, url: str, error: Exception) -> TowpathError:
        return cls(0, "UNREACHABLE", f"cannot reach {url}: {type(error).__name__} {error}")
