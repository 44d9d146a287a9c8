"""A live server for the client's tests: the test's app served by uvicorn in the test's
own event loop, and the admin key to call it with."""

from __future__ import annotations

import pytest

from tests.events.conftest import server, settings
from tests.factories import edge, node

# The stream tests' fixtures: a live server, timers and pings within a test's patience.
__all__ = ["server", "settings"]

WAITS_FOR_APPROVAL = {
    "nodes": [
        node("prepare", "transform", {"output": {"ready": True}}),
        node("review", "approval", {"message": "Ship it?"}),
        node("ship", "transform", {"output": {"shipped": True}}),
    ],
    "edges": [edge("prepare", "review"), edge("review", "ship")],
}
COMPLETES = {
    "nodes": [
        node("fetch", "transform", {"output": {"n": 1}}),
        node("report", "transform", {"output": {"done": True}}),
    ],
    "edges": [edge("fetch", "report")],
}
# StrictUndefined: a template naming what the input lacks fails its step.
FAILS = {
    "nodes": [
        node("fetch", "transform", {"output": {"n": 1}}),
        node("report", "transform", {"output": {"x": "{{ input.missing }}"}}),
    ],
    "edges": [edge("fetch", "report")],
}


@pytest.fixture
def api_key(auth_headers: dict[str, str]) -> str:
    return auth_headers["Authorization"].removeprefix("Bearer ")
