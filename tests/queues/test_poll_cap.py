"""A server holds a long poll no longer than its TOWPATH_QUEUE_POLL_MAX_WAIT_SECONDS, whatever
`wait_seconds` the worker asks for."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from tests.queues.flows import poll

if TYPE_CHECKING:
    import httpx

    from towpath.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"queue_poll_max_wait_seconds": 0.2})


async def test_a_long_poll_is_held_no_longer_than_the_server_allows(
    client: httpx.AsyncClient,
) -> None:
    began = time.monotonic()
    tasks = await poll(client, queue="quiet", wait_seconds=20)
    assert tasks == []
    assert time.monotonic() - began < 10
