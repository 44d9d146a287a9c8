"""The process log never carries a step call's query string or its headers' values."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from typing import TYPE_CHECKING, Any

import pytest

from tests.factories import node
from tests.runs import publish, start, wait_for
from towpath.observability.logs import QUIET_LOGGERS, logging_config, without_queries

if TYPE_CHECKING:
    from collections.abc import Iterator

    import httpx

    from tests.servers import EchoServer


@pytest.fixture(params=["json", "text"])
def process_log(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    """Everything the process logs at debug level, as `towpath serve` configures it."""
    root = logging.getLogger()
    kept = (root.level, list(root.handlers))
    buffer = io.StringIO()
    config = logging_config("debug", request.param)
    config["handlers"]["default"]["stream"] = buffer
    logging.config.dictConfig(config)
    yield buffer
    root.handlers[:] = kept[1]
    root.setLevel(kept[0])
    for name in (*QUIET_LOGGERS, "uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).setLevel(logging.NOTSET)


def _calls(url: str) -> dict[str, Any]:
    return {
        "nodes": [
            node(
                "call",
                "http_request",
                {
                    "method": "POST",
                    "url": url,
                    "headers": {"Authorization": "Bearer header-s3cret"},
                    "retry": {"max_attempts": 1},
                },
            )
        ],
        "edges": [],
    }


async def test_no_line_holds_a_query_string_or_a_header_value(
    client: httpx.AsyncClient, echo_server: EchoServer, process_log: io.StringIO
) -> None:
    ok = await publish(client, _calls(f"{echo_server.url}/echo?secret=query-s3cret"))
    # A refused call: its error names the URL it was refused for.
    refused = await publish(client, _calls(f"{echo_server.url}/status/500?secret=query-s3cret"))
    runs = [await start(client, ok), await start(client, refused)]
    done = [await wait_for(client, run["id"], "completed", "failed") for run in runs]
    assert [run["status"] for run in done] == ["completed", "failed"]

    written = process_log.getvalue()
    assert runs[0]["id"] in written, "the runs' requests were logged"
    assert "query-s3cret" not in written
    assert "header-s3cret" not in written


def test_query_strings_are_cut_from_any_url_in_a_line() -> None:
    line = "POST http://h:1/a?key=1&b=2 failed; see 'https://x.io/p?q=s' or wss://w/s?token=t"
    assert without_queries(line) == (
        "POST http://h:1/a?… failed; see 'https://x.io/p?…' or wss://w/s?…"
    )
    assert without_queries("is it? yes: http://h/p") == "is it? yes: http://h/p"


def test_the_json_line_keeps_its_shape() -> None:
    buffer = io.StringIO()
    config = logging_config("info", "json")
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(config["formatters"]["towpath"]["()"]())
    logger = logging.getLogger("towpath.test_logs")
    logger.addHandler(handler)
    try:
        logger.warning("called %s", "http://h/p?a=b", extra={"url": "http://h/p?c=d"})
    finally:
        logger.removeHandler(handler)
    line = json.loads(buffer.getvalue())
    assert line["message"] == "called http://h/p?…"
    assert line["url"] == "http://h/p?…"
