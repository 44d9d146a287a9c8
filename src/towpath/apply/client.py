"""The HTTP calls apply and export make: the API's lists read whole, and errors as envelopes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from towpath.apply.errors import ApplyError, ServerError

if TYPE_CHECKING:
    from types import TracebackType

PER_PAGE = 100


def _field(details: dict[str, Any]) -> str | None:
    """The field an error envelope names: its own `field`, or the first invalid one."""
    if isinstance(details.get("field"), str):
        return str(details["field"])
    problems = details.get("errors")
    if isinstance(problems, list) and problems and isinstance(problems[0], dict):
        first = problems[0]
        loc = [str(part) for part in first.get("loc", []) if part != "body"]
        where = ".".join(loc) or first.get("path") or first.get("node_id")
        text = first.get("msg") or first.get("message")
        return f"{where}: {text}" if where and text else where or text
    return None


def server_error(response: httpx.Response) -> ServerError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return ServerError(response.status_code, "ERROR", response.text[:200] or "no body")
    details = body.get("details") if isinstance(body.get("details"), dict) else {}
    return ServerError(
        response.status_code,
        str(body.get("error_code", "ERROR")),
        str(body.get("message", "")),
        _field(details or {}),
    )


class Api:
    """A towpath server's `/api/v1`, called with one API key."""

    def __init__(self, url: str, api_key: str | None, *, timeout: float = 60.0) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        try:
            self._http = httpx.AsyncClient(
                base_url=url.rstrip("/") + "/api/v1", headers=headers, timeout=timeout
            )
        except (httpx.InvalidURL, UnicodeEncodeError) as error:
            raise ApplyError(_unsendable(url, error)) from error

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.aclose()

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = await self._http.request(method, path, json=body)
        except (httpx.InvalidURL, UnicodeEncodeError) as error:
            raise ApplyError(_unsendable(str(self._http.base_url), error)) from error
        except httpx.HTTPError as error:
            raise ApplyError(
                f"cannot reach {self._http.base_url}: {type(error).__name__} {error}"
            ) from error
        if response.status_code >= 400:
            raise server_error(response)
        try:
            return response.json() if response.content else None
        except ValueError as error:
            # Another server at the address: a console's page, a proxy's.
            message = (
                f"{response.request.url} did not answer as towpath's API: {response.text[:80]}"
            )
            raise ApplyError(message) from error

    async def list_all(self, path: str) -> list[dict[str, Any]]:
        """Every item of a list endpoint, page after page."""
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            found = await self.call("GET", f"{path}?page={page}&per_page={PER_PAGE}")
            items.extend(found)
            if len(found) < PER_PAGE:
                return items
            page += 1


def _unsendable(url: str, error: Exception) -> str:
    if isinstance(error, UnicodeEncodeError):
        return f"cannot send a request to {url}: the API key holds a character that is not ASCII"
    return f"cannot send a request to {url}: {type(error).__name__} {error}"
