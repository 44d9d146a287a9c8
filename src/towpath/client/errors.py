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

    @classmethod
    def unsendable(cls, url: str, error: Exception) -> TowpathError:
        """A request that cannot be sent as it is: a URL that does not parse, a header (the
        API key, an idempotency key) with a character HTTP headers cannot carry."""
        if isinstance(error, UnicodeEncodeError):
            why = "a header (the API key, an idempotency key) holds a character that is not ASCII"
        else:
            why = f"{type(error).__name__} {error}"
        return cls(0, "INVALID_REQUEST", f"cannot send a request to {url}: {why}")

    @classmethod
    def not_the_api(cls, response: httpx.Response, error: Exception) -> TowpathError:
        """A success whose body is not what the API answers: another server at the URL (a
        console's page, a proxy's), or a path that is not an API path."""
        where = response.request.url if response.request else "the server"
        text = response.text[:120].strip()
        return cls(
            response.status_code,
            "NOT_THE_API",
            f"{where} did not answer as towpath's API ({type(error).__name__}); it said: {text}",
        )
