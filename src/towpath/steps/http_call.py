"""One HTTP call made for a step: the idempotency header, a capped body, failures as `Failed`."""

from __future__ import annotations

import asyncio
import codecs
import json
import re
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp.http_exceptions import ContentEncodingError
from multidict import CIMultiDict
from yarl import URL

from towpath.steps.circuit import TROUBLE, CircuitState
from towpath.steps.egress import DestinationRefused
from towpath.steps.execution import CUT_OFF, Failed
from towpath.steps.http_client import MAX_REDIRECTS

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping

    from towpath.steps.circuit import CircuitBreakers

# The most of a response body a step keeps, so one huge answer cannot eat a worker's memory.
MAX_BODY_BYTES = 10 * 1024 * 1024
# How much of an error response's body its failure message quotes.
ERROR_BODY_CHARS = 500
# UTF-8 spends at most four bytes on a character: enough bytes for the quoted part.
_ERROR_BODY_BYTES = 4 * ERROR_BODY_CHARS
_CHUNK_BYTES = 64 * 1024
# RFC 9110's token: the characters a header name may hold.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# The longest `Retry-After` honoured: a destination cannot park a step for days.
MAX_RETRY_AFTER_SECONDS = 6 * 3600


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; a step's output must be storable as JSON.
    raise ValueError(f"{name} is not valid JSON")


def parse_json(text: str) -> Any:
    """Parse strict JSON; raise ValueError (or RecursionError when absurdly deep) if it is not."""
    return json.loads(text, parse_constant=_refuse_constant)


@dataclass(frozen=True)
class HttpAnswer:
    """A response that was not a failure, read whole and within MAX_BODY_BYTES."""

    status: int
    # Lower-case names; a repeated header's values joined by ", ".
    headers: dict[str, str]
    text: str
    media_type: str

    @property
    def says_json(self) -> bool:
        return self.media_type == "application/json" or self.media_type.endswith("+json")

    def json_value(self) -> tuple[bool, Any]:
        """(True, parsed body) when the response is labelled JSON and parses, else (False, None)."""
        if not self.says_json:
            return False, None
        try:
            return True, parse_json(self.text)
        except (ValueError, RecursionError):
            # A server that mislabels its body still gets its text shown, not a failure.
            return False, None

    def body(self) -> Any:
        """The parsed JSON body when the response is JSON, else the body's text."""
        is_json, value = self.json_value()
        return value if is_json else self.text


async def send(
    client: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    idempotency_key: str,
    timeout_seconds: float,
    headers: Mapping[str, str] | None = None,
    json_body: Any = None,
    text_body: str | None = None,
    allow_status: Collection[int] = (),
    follow_redirects: bool = False,
    log: Callable[[str, str], None] | None = None,
    breakers: CircuitBreakers | None = None,
) -> HttpAnswer | Failed:
    """Make one attempt of a call; a status of 400 and up not in `allow_status` is a `Failed`.

    `json_body` (unless None) is sent as JSON, else `text_body` (unless None) as text. An
    `Idempotency-Key` header the caller set is kept; otherwise the attempt's key is sent.
    With `log`, the attempt is told in the run's log: where it went (without the query
    string, which may hold a secret), what came back, how long it took.
    """
    began = time.perf_counter()
    destination = _destination(url) if breakers is not None else None
    if breakers is not None and destination is not None:
        refusal = breakers.before(destination)
        if refusal is not None:
            failed = Failed(
                f"not sent to {_without_query(url)}: the circuit for {destination} is open after"
                f" {refusal.failures} failures in a row; the next trial in"
                f" {refusal.retry_in_seconds:.0f} s",
                kind="circuit_open",
                retryable=True,
                retry_after=refusal.retry_in_seconds,
                circuit=CircuitState.OPEN,
            )
            if log is not None:
                log("warning", failed.error)
            return failed
    # Messages name the URL without its query string, which may hold a secret; the step's
    # input keeps the whole URL for whoever may read the run.
    try:
        answer = await _attempt(
            client,
            method,
            url,
            idempotency_key=idempotency_key,
            timeout_seconds=timeout_seconds,
            headers=headers,
            json_body=json_body,
            text_body=text_body,
            allow_status=allow_status,
            follow_redirects=follow_redirects,
        )
    except BaseException as error:
        if breakers is not None and destination is not None:
            if isinstance(error, asyncio.CancelledError) and error.args == (CUT_OFF,):
                # Its caller stopped it, the destination did not fail it: were it counted,
                # a worker whose steps are taken over or cancelled mid-call would open the
                # circuit of a destination that never failed, and refuse every call there.
                breakers.cut_off(destination)
            else:
                breakers.after(destination, trouble=True)  # a trial must not stay out forever
        raise
    if breakers is not None and destination is not None:
        trouble = isinstance(answer, Failed) and answer.kind in TROUBLE
        was, now = breakers.after(destination, trouble)
        if now != was and log is not None:
            log("warning" if now == CircuitState.OPEN else "info",
                f"the circuit for {destination} is now {now}")  # fmt: skip
        if isinstance(answer, Failed) and now != CircuitState.CLOSED:
            answer = replace(answer, circuit=now)
    if log is not None:
        took = f"{(time.perf_counter() - began) * 1000:.0f} ms"
        where = f"{method} {_without_query(url)}"
        if isinstance(answer, Failed):
            log("warning", f"{where} failed after {took}: {answer.error}")
        else:
            log("info", f"{where}: {answer.status} in {took}")
    return answer


def _destination(url: str) -> str | None:
    try:
        target = URL(url)
    except ValueError:
        return None
    if not target.host:
        return None
    return f"{target.host}:{target.port}"


def _without_query(url: str) -> str:
    return url.split("?", 1)[0].split("#", 1)[0]


async def _attempt(
    client: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    idempotency_key: str,
    timeout_seconds: float,
    headers: Mapping[str, str] | None,
    json_body: Any,
    text_body: str | None,
    allow_status: Collection[int],
    follow_redirects: bool,
) -> HttpAnswer | Failed:
    shown = _without_query(url)
    try:
        target = URL(url)
    except ValueError as error:
        return Failed(f"invalid URL {shown!r}: {error}", kind="error", retryable=False)
    bad_name = next((name for name in headers or {} if not _TOKEN.fullmatch(name)), None)
    if bad_name is not None:
        # We could not even phrase the request.
        message = f"cannot send the request to {shown}: {bad_name!r} is not a valid header name"
        return Failed(message, kind="error", retryable=False)
    try:
        request_headers = _request_headers(headers, idempotency_key)
        data = _body(request_headers, json_body, text_body)
    except ValueError as error:
        # A header that is not ASCII, or a number JSON cannot carry (NaN): the config's fault.
        return Failed(
            f"cannot build the request to {shown}: {error}", kind="error", retryable=False
        )
    if target.scheme not in ("http", "https") or not target.host:
        reason = "not an http or https URL" if target.host else "no host"
        return Failed(f"invalid URL {shown!r}: {reason}", kind="error", retryable=False)
    try:
        async with client.request(
            method,
            target,
            headers=request_headers,
            data=data,
            allow_redirects=follow_redirects,
            max_redirects=MAX_REDIRECTS,
            timeout=aiohttp.ClientTimeout(total=timeout_seconds),
        ) as response:
            return await _read_answer(response, shown, allow_status)
    except DestinationRefused as error:
        return Failed(str(error), kind="error", retryable=False)
    except TimeoutError:
        message = f"no answer from {shown} within {timeout_seconds:g} seconds"
        return Failed(message, kind="timeout", retryable=True)
    except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError) as error:
        return Failed(f"invalid URL {shown!r}: {error}", kind="error", retryable=False)
    except aiohttp.TooManyRedirects:
        message = f"request to {shown} failed: more than {MAX_REDIRECTS} redirects"
        return Failed(message, kind="error", retryable=False)
    except aiohttp.ClientPayloadError as error:
        if isinstance(error.__cause__, ContentEncodingError) or "encoding" in str(error).lower():
            return Failed(f"request to {shown} failed: {error}", kind="error", retryable=False)
        return Failed(f"request to {shown} failed: {error}", kind="network", retryable=True)
    except (aiohttp.ClientError, OSError) as error:
        message = f"request to {shown} failed: {str(error) or type(error).__name__}"
        return Failed(message, kind="network", retryable=True)
    except UnicodeError as error:
        # The host cannot be encoded for resolving (a label over 63 characters).
        return Failed(f"invalid URL {shown!r}: {error}", kind="error", retryable=False)


def _request_headers(given: Mapping[str, str] | None, idempotency_key: str) -> CIMultiDict[str]:
    """The config's headers, refused (ValueError) when HTTP cannot carry them as written."""
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in (given or {}).items():
        if not value.isascii() or "\r" in value or "\n" in value or "\0" in value:
            raise ValueError(f"the value of header {name!r} is not printable ASCII")
        headers.add(name, value)
    headers.setdefault("Idempotency-Key", idempotency_key)
    return headers


def _body(headers: CIMultiDict[str], json_body: Any, text_body: str | None) -> bytes | None:
    if json_body is not None:
        # As httpx encodes JSON: compact, UTF-8, no NaN.
        encoded = json.dumps(json_body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        headers.setdefault("Content-Type", "application/json")
        return encoded.encode()
    if text_body is not None:
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        return text_body.encode()
    return None


async def _read_answer(
    response: aiohttp.ClientResponse, url: str, allow_status: Collection[int]
) -> HttpAnswer | Failed:
    status = response.status
    succeeded = status < 400 or status in allow_status
    # A failure's message quotes only the start of the body: read no more than that.
    limit = MAX_BODY_BYTES if succeeded else _ERROR_BODY_BYTES
    content, complete = await _read_capped(response, limit)
    text = content.decode(_encoding(response.charset), errors="replace")
    if not succeeded:
        failed = status_failure(status, url, text)
        if status in (429, 503):
            failed = replace(failed, retry_after=retry_after(response.headers.get("Retry-After")))
        return failed
    if not complete:
        message = f"the response from {url} is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB"
        return Failed(message, kind="error", retryable=False)
    media_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    found: dict[str, str] = {}
    for name, value in response.headers.items():
        key = name.lower()
        found[key] = f"{found[key]}, {value}" if key in found else value
    return HttpAnswer(status=status, headers=found, text=text, media_type=media_type)


def _encoding(charset: str | None) -> str:
    """The charset the response names when Python knows it, else UTF-8 (as httpx reads)."""
    if charset:
        try:
            return codecs.lookup(charset).name
        except LookupError:
            pass
    return "utf-8"


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """Up to `limit` bytes of the (decoded) body, and whether that was all of it."""
    content = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
        content += chunk
        if len(content) > limit:
            return bytes(content[:limit]), False
    return bytes(content), True


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """The seconds a `Retry-After` header asks for (a number or an HTTP date), capped; None
    when there is none or it cannot be read."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def status_failure(status: int, url: str, text: str) -> Failed:
    """The failure for an error status: 5xx and 429 are worth another attempt, the rest not."""
    quoted = text[:ERROR_BODY_CHARS].strip()
    message = f"HTTP {status} from {url}" + (f": {quoted}" if quoted else "")
    kind = "5xx" if status >= 500 else "error"
    return Failed(message, kind=kind, retryable=status >= 500 or status == 429)
