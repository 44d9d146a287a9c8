"""`Client` and `AsyncClient`: a towpath server's API over httpx, sync or async.

Each sends the calls of `towpath.client.calls` (`client.send(calls.get_run(run_id))`),
reads a list page by page (`client.each(calls.list_runs(status="failed"))`), and raises
`TowpathError` with the server's envelope for every refusal. `AsyncClient` also follows
the live streams: `run_events(run_id)` and `inbox_events()`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from towpath import __version__
from towpath.client.errors import TowpathError
from towpath.client.paging import PER_PAGE, Page, total_count
from towpath.client.streams import Reconnecting, inbox_messages, run_messages

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Iterator
    from types import TracebackType
    from typing import Self

    from towpath.client.call import Call
    from towpath.client.messages import InboxMessage, RunMessage

T = TypeVar("T")


def _headers(api_key: str | None, workspace: str | None) -> dict[str, str]:
    headers = {"User-Agent": f"towpath-client/{__version__}"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    if workspace:
        headers["X-Workspace"] = workspace
    return headers


def _request(http: httpx.Client | httpx.AsyncClient, call: Call[Any]) -> httpx.Request:
    headers = call.header_values()
    content = call.content()
    if content is not None:
        headers["Content-Type"] = "application/json"
    return http.build_request(
        call.method, call.url, params=call.query(), headers=headers, content=content
    )


def _answer(call: Call[T], response: httpx.Response) -> T:
    # A redirect is no answer either: the API redirects only a path it has no route for.
    if not response.is_success:
        raise TowpathError.of(response)
    try:
        return call.read(response)
    except ValueError as error:  # pydantic's ValidationError is one
        raise TowpathError.not_the_api(response, error) from error


def _page(call: Call[list[T]], response: httpx.Response, number: int, per_page: int) -> Page[T]:
    return Page(_answer(call, response), total_count(response), number, per_page)


class _Base:
    def __init__(self, url: str, api_key: str | None, workspace: str | None) -> None:
        self.url = url.rstrip("/")
        self.headers = _headers(api_key, workspace)

    def _unreachable(self, error: Exception) -> TowpathError:
        if isinstance(error, httpx.InvalidURL | UnicodeEncodeError):
            return TowpathError.unsendable(self.url, error)
        return TowpathError.unreachable(self.url, error)


class Client(_Base):
    """The API over a sync httpx client; close it, or use it in a `with` block."""

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        workspace: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(url, api_key, workspace)
        try:
            self.http = httpx.Client(
                base_url=self.url, headers=self.headers, timeout=timeout, transport=transport
            )
        except (httpx.InvalidURL, UnicodeEncodeError) as error:
            raise TowpathError.unsendable(self.url, error) from error

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _send(self, call: Call[Any]) -> httpx.Response:
        try:
            return self.http.send(_request(self.http, call))
        except (httpx.HTTPError, httpx.InvalidURL, UnicodeEncodeError) as error:
            raise self._unreachable(error) from error

    def send(self, call: Call[T]) -> T:
        """The call's answer, as its model."""
        return _answer(call, self._send(call))

    def page(self, call: Call[list[T]], page: int = 1, per_page: int = PER_PAGE) -> Page[T]:
        """One page of a list, with the list's total."""
        return _page(call, self._send(call.page(page, per_page)), page, per_page)

    def each(self, call: Call[list[T]], per_page: int = PER_PAGE) -> Iterator[T]:
        """Every item of a list, reading it page by page as the iteration goes."""
        number = 1
        while True:
            found = self.page(call, number, per_page)
            yield from found.items
            if found.last or not found.items:
                return
            number += 1


class AsyncClient(_Base):
    """The API over an async httpx client, and its live streams; close it with `aclose`
    or use it in an `async with` block."""

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        workspace: str | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        reconnecting: Reconnecting | None = None,
    ) -> None:
        super().__init__(url, api_key, workspace)
        self.timeout = timeout
        self.reconnecting = reconnecting or Reconnecting()
        try:
            self.http = httpx.AsyncClient(
                base_url=self.url, headers=self.headers, timeout=timeout, transport=transport
            )
        except (httpx.InvalidURL, UnicodeEncodeError) as error:
            raise TowpathError.unsendable(self.url, error) from error

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _send(self, call: Call[Any]) -> httpx.Response:
        try:
            return await self.http.send(_request(self.http, call))
        except (httpx.HTTPError, httpx.InvalidURL, UnicodeEncodeError) as error:
            raise self._unreachable(error) from error

    async def send(self, call: Call[T]) -> T:
        """The call's answer, as its model."""
        return _answer(call, await self._send(call))

    async def page(self, call: Call[list[T]], page: int = 1, per_page: int = PER_PAGE) -> Page[T]:
        """One page of a list, with the list's total."""
        return _page(call, await self._send(call.page(page, per_page)), page, per_page)

    async def each(self, call: Call[list[T]], per_page: int = PER_PAGE) -> AsyncIterator[T]:
        """Every item of a list, reading it page by page as the iteration goes."""
        number = 1
        while True:
            found = await self.page(call, number, per_page)
            for item in found.items:
                yield item
            if found.last or not found.items:
                return
            number += 1

    @property
    def socket_url(self) -> str:
        return "ws" + self.url.removeprefix("http")

    def run_events(self, run_id: str, after: int | None = None) -> AsyncGenerator[RunMessage, None]:
        """The run's snapshot (or, with `after`, the events after that seq), then each of
        its events once and in order until it ends, across lost connections."""
        return run_messages(
            self.socket_url, self.headers, run_id, after, self.reconnecting, self.timeout
        )

    def inbox_events(self) -> AsyncGenerator[InboxMessage, None]:
        """The caller's inbox as a snapshot, then its changes, as long as it is read."""
        return inbox_messages(self.socket_url, self.headers, self.reconnecting, self.timeout)
