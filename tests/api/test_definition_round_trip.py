"""A definition is stored as the editor sent it: reading it back gives the same JSON, with
nothing added, so an editor that compares graphs sees no change it did not make."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

API = "/api/v1"

SENT = {
    "nodes": [
        {
            "id": "a",
            "type": "transform",
            "position": {"x": 10, "y": 20},
            "data": {"config": {"output": {"n": 1}}},
            "width": 150,
        },
        {"id": "b", "type": "transform", "data": {"label": "B", "config": {"output": {}}}},
    ],
    "edges": [{"id": "e", "source": "a", "target": "b"}],
    "viewport": {"x": 0, "y": 0, "zoom": 1.5},
}


async def test_a_definition_reads_back_exactly_as_it_was_sent(client: httpx.AsyncClient) -> None:
    created = await client.post(f"{API}/workflows", json={"name": "rt", "definition": SENT})
    read = await client.get(f"{API}/workflows/{created.json()['id']}")

    # Compared as JSON text, where 10 and 10.0 differ and an added null shows.
    assert json.dumps(read.json()["definition"], sort_keys=True) == json.dumps(SENT, sort_keys=True)
