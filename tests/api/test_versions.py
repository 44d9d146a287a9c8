"""Versions of one workflow: each duplicate gets its own next number, even when several
versions are duplicated at once."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from tests.factories import workflow_body

if TYPE_CHECKING:
    import httpx

API = "/api/v1"


async def test_duplicating_two_versions_at_once_numbers_both(client: httpx.AsyncClient) -> None:
    first = (await client.post(f"{API}/workflows", json=workflow_body())).json()
    second = (await client.post(f"{API}/workflows/{first['id']}/duplicate")).json()

    copies = await asyncio.gather(
        *(
            client.post(f"{API}/workflows/{source}/duplicate")
            for source in [first["id"], second["id"]] * 3
        )
    )

    assert [c.status_code for c in copies] == [201] * 6, [c.text for c in copies]
    versions = (await client.get(f"{API}/workflows/{first['id']}/versions")).json()
    assert [v["version"] for v in versions] == list(range(1, 9))


async def test_two_saves_to_a_published_version_keep_both(client: httpx.AsyncClient) -> None:
    first = (await client.post(f"{API}/workflows", json=workflow_body())).json()
    assert (await client.post(f"{API}/workflows/{first['id']}/publish")).status_code == 200

    # A client holding the published id saves twice, as an editor saving a graph does.
    described = await client.put(f"{API}/workflows/{first['id']}", json={"description": "one"})
    renamed = await client.put(f"{API}/workflows/{first['id']}", json={"name": "renamed"})

    assert described.status_code == renamed.status_code == 200
    assert (described.json()["version"], renamed.json()["version"]) == (2, 3)
    # The newest version holds both saves, not only the last.
    assert (renamed.json()["name"], renamed.json()["description"]) == ("renamed", "one")
    unchanged = (await client.get(f"{API}/workflows/{first['id']}")).json()
    assert (unchanged["status"], unchanged["description"]) == ("published", first["description"])
