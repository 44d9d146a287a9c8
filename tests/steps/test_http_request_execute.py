"""The `http_request` step calling a real local server: output, headers, bodies, failures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests import servers
from tests.servers import EchoServer, step_context
from towpath.steps.execution import Completed, EngineServices, Failed
from towpath.steps.http_call import MAX_BODY_BYTES
from towpath.steps.http_request import STEP, HttpRequestConfig, execute

if TYPE_CHECKING:
    import aiohttp

    from towpath.steps.execution import Outcome

# The servers' fixtures, until the root conftest registers tests.servers as a plugin.
echo_server = servers.echo_server
http_client = servers.http_client
refused_url = servers.refused_url


async def call(client: aiohttp.ClientSession, config: dict[str, Any], attempt: int = 1) -> Outcome:
    parsed = HttpRequestConfig.model_validate(config)
    return await execute(parsed, step_context(EngineServices(http=client), attempt=attempt))


async def completed(client: aiohttp.ClientSession, config: dict[str, Any]) -> dict[str, Any]:
    outcome = await call(client, config)
    assert isinstance(outcome, Completed), outcome
    output: dict[str, Any] = outcome.output
    return output


async def failed(client: aiohttp.ClientSession, config: dict[str, Any]) -> Failed:
    outcome = await call(client, config)
    assert isinstance(outcome, Failed), outcome
    return outcome


def test_the_step_type_registers_its_execute() -> None:
    assert STEP.execute is execute


async def test_a_get_outputs_status_headers_and_parsed_json(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    output = await completed(http_client, {"url": f"{echo_server.url}/echo?page=2"})

    assert output["status"] == 200
    assert output["headers"]["content-type"] == "application/json"
    assert all(name == name.lower() for name in output["headers"])
    assert output["body"]["method"] == "GET"
    assert output["body"]["query"] == {"page": "2"}
    assert set(output) == {"status", "headers", "body"}


async def test_every_attempt_sends_its_idempotency_key(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    await call(http_client, {"url": f"{echo_server.url}/echo"}, attempt=1)
    await call(http_client, {"url": f"{echo_server.url}/echo"}, attempt=2)

    keys = [request.headers["idempotency-key"] for request in echo_server.requests]
    assert keys == ["run-1:step-1:1", "run-1:step-1:2"]


async def test_an_idempotency_key_the_config_sets_is_kept(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    config = {"url": f"{echo_server.url}/echo", "headers": {"idempotency-key": "order-42"}}
    output = await completed(http_client, config)

    assert output["body"]["headers"]["idempotency-key"] == "order-42"


async def test_config_headers_are_sent(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    headers = {"Authorization": "Bearer s3cret", "X-Trace": "abc"}
    await completed(http_client, {"url": f"{echo_server.url}/echo", "headers": headers})

    sent = echo_server.requests[0].headers
    assert sent["authorization"] == "Bearer s3cret"
    assert sent["x-trace"] == "abc"


@pytest.mark.parametrize("body", [{"name": "Ada", "tags": [1, None]}, [1, "two"], 42, False])
async def test_a_json_value_body_is_sent_as_json(
    http_client: aiohttp.ClientSession, echo_server: EchoServer, body: Any
) -> None:
    output = await completed(
        http_client, {"method": "post", "url": f"{echo_server.url}/echo", "body": body}
    )

    assert output["body"]["method"] == "POST"
    assert output["body"]["json"] == body
    assert echo_server.requests[0].headers["content-type"] == "application/json"


async def test_a_string_body_is_sent_as_text(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    config = {"method": "PUT", "url": f"{echo_server.url}/echo", "body": "naïve {not json"}
    await completed(http_client, config)

    request = echo_server.requests[0]
    assert request.body == "naïve {not json".encode()
    assert request.headers["content-type"] == "text/plain; charset=utf-8"


async def test_a_string_body_keeps_the_content_type_the_config_gives(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    config = {
        "method": "POST",
        "url": f"{echo_server.url}/echo",
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        "body": "a=1&b=2",
    }
    output = await completed(http_client, config)

    assert output["body"]["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert output["body"]["body"] == "a=1&b=2"


async def test_no_body_sends_none(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    await completed(http_client, {"method": "DELETE", "url": f"{echo_server.url}/echo"})

    assert echo_server.requests[0].method == "DELETE"
    assert echo_server.requests[0].body == b""


async def test_a_text_response_body_is_its_text(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    output = await completed(http_client, {"url": f"{echo_server.url}/text"})

    assert output["body"] == "hello from the echo server"
    assert output["headers"]["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("application/problem+json", '{"title": "gone"}', {"title": "gone"}),
        ("application/json; charset=utf-8", "[1, 2]", [1, 2]),
        ("application/json", "{not json", "{not json"),
        ("application/json", "NaN", "NaN"),
        ("text/html", '{"looks": "like json"}', '{"looks": "like json"}'),
    ],
)
async def test_the_body_is_parsed_only_when_labelled_json_and_valid(
    http_client: aiohttp.ClientSession,
    echo_server: EchoServer,
    content_type: str,
    body: str,
    expected: Any,
) -> None:
    url = httpx.URL(f"{echo_server.url}/raw", params={"content_type": content_type, "body": body})
    output = await completed(http_client, {"url": str(url)})

    assert output["body"] == expected


async def test_a_head_request_has_an_empty_body(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    output = await completed(http_client, {"method": "HEAD", "url": f"{echo_server.url}/echo"})

    assert output["status"] == 200
    assert output["body"] == ""


async def test_a_redirect_is_followed(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    output = await completed(http_client, {"url": f"{echo_server.url}/redirect?to=/echo"})

    assert output["status"] == 200
    assert output["body"]["path"] == "/echo"


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (400, "error", False),
        (401, "error", False),
        (404, "error", False),
        (429, "error", True),
        (500, "5xx", True),
        (503, "5xx", True),
    ],
)
async def test_an_error_status_fails_with_its_kind(
    http_client: aiohttp.ClientSession,
    echo_server: EchoServer,
    status: int,
    kind: str,
    retryable: bool,
) -> None:
    url = f"{echo_server.url}/status/{status}"
    failure = await failed(http_client, {"url": url})

    assert failure.error == f"HTTP {status} from {url}: status {status}"
    assert failure.kind == kind
    assert failure.retryable is retryable


async def test_an_error_message_quotes_at_most_500_characters_of_the_body(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    url = f"{echo_server.url}/status/500?body=é&repeat=3000"
    failure = await failed(http_client, {"url": url})

    assert failure.error.endswith(": " + "é" * 500)


async def test_an_allowed_error_status_completes(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    config = {"url": f"{echo_server.url}/status/404", "allow_status": [404, 409]}
    output = await completed(http_client, config)

    assert output["status"] == 404
    assert output["body"] == "status 404"


async def test_a_slow_server_fails_as_a_retryable_timeout(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    url = f"{echo_server.url}/slow?seconds=3"
    failure = await failed(http_client, {"url": url, "timeout": 0.2})

    assert failure.kind == "timeout"
    assert failure.retryable is True
    # The message names the URL without its query string, which may hold a secret.
    assert failure.error == f"no answer from {echo_server.url}/slow within 0.2 seconds"


async def test_a_refused_connection_fails_as_a_retryable_network_error(
    http_client: aiohttp.ClientSession, refused_url: str
) -> None:
    failure = await failed(http_client, {"url": refused_url})

    assert failure.kind == "network"
    assert failure.retryable is True
    assert refused_url in failure.error


@pytest.mark.parametrize("url", ["not a url", "ftp://example.test/file", "http://[::1/"])
async def test_an_invalid_url_fails_for_good(http_client: aiohttp.ClientSession, url: str) -> None:
    failure = await failed(http_client, {"url": url})

    assert failure.kind == "error"
    assert failure.retryable is False
    assert failure.error.startswith(f"invalid URL {url!r}")


async def test_a_header_that_cannot_be_sent_fails_for_good(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    config = {"url": f"{echo_server.url}/echo", "headers": {"X-Name": "José"}}
    failure = await failed(http_client, config)

    assert failure.kind == "error"
    assert failure.retryable is False
    assert echo_server.requests == []


async def test_a_header_name_http_forbids_fails_for_good(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    config = {"url": f"{echo_server.url}/echo", "headers": {"X Bad Name": "1"}}
    failure = await failed(http_client, config)

    assert failure.error.startswith(f"cannot send the request to {echo_server.url}/echo")
    assert failure.retryable is False


async def test_endless_redirects_fail_for_good(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    failure = await failed(http_client, {"url": f"{echo_server.url}/loop"})

    assert failure.kind == "error"
    assert failure.retryable is False
    assert "redirect" in failure.error.lower()


async def test_a_body_that_cannot_be_decoded_fails_for_good(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    query = {"content_encoding": "gzip", "body": "not gzip at all"}
    url = httpx.URL(f"{echo_server.url}/raw", params=query)
    failure = await failed(http_client, {"url": str(url)})

    assert failure.kind == "error"
    assert failure.retryable is False


async def test_a_body_of_exactly_the_cap_is_kept(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    output = await completed(http_client, {"url": f"{echo_server.url}/big?mb=10"})

    assert len(output["body"]) == MAX_BODY_BYTES


async def test_a_body_over_the_cap_fails_for_good(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    url = f"{echo_server.url}/big?mb=50"
    failure = await failed(http_client, {"url": url})

    assert failure.error == f"the response from {url.split('?')[0]} is larger than 10 MiB"
    assert failure.kind == "error"
    assert failure.retryable is False


async def test_a_flaky_endpoint_fails_then_succeeds_and_counts_its_calls(
    http_client: aiohttp.ClientSession, echo_server: EchoServer
) -> None:
    config = {"url": f"{echo_server.url}/flaky/charge?failures=1"}

    first = await call(http_client, config, attempt=1)
    second = await call(http_client, config, attempt=2)

    assert isinstance(first, Failed)
    assert first.kind == "5xx"
    assert isinstance(second, Completed)
    assert second.output["body"] == {"key": "charge", "calls": 2}
    assert echo_server.calls("charge") == 2


async def test_a_host_no_resolver_can_be_asked_for_fails_for_good(
    http_client: aiohttp.ClientSession,
) -> None:
    failure = await failed(http_client, {"url": f"https://{'a' * 64}.example.com/"})

    assert failure.kind == "error"
    assert failure.retryable is False
    assert failure.error.startswith("invalid URL")
