"""A webhook trigger runs its workflow's newest published version at each delivery, or
exactly its own version when pinned."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.runs import API, publish, wait_for
from tests.triggers.events import echo, new_version
from tests.triggers.hooks import make_trigger, standard_signed

if TYPE_CHECKING:
    import httpx

BODY = b'{"n": 1}'


async def test_a_delivery_runs_the_lineages_newest_published_version(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    first = await publish(client, echo("v1"))
    trigger = await make_trigger(client, first)
    second = await new_version(client, first, echo("v2"))
    # A draft after it is not run: it may still change.
    draft = await client.post(f"{API}/workflows/{second}/duplicate")
    assert draft.status_code == 201

    delivered = await sender.post(
        trigger["path"], content=BODY, headers=standard_signed(trigger["secret"], BODY, "a")
    )

    assert trigger["pinned"] is False
    assert delivered.status_code == 201, delivered.text
    run = delivered.json()
    assert run["workflow_id"] == second
    assert run["trigger_type"] == "webhook"
    assert run["trigger_id"] == trigger["id"]
    done = await wait_for(client, run["id"], "completed")
    assert done["context"]["echo"]["version"] == "v2"


async def test_a_pinned_trigger_runs_its_own_version(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    first = await publish(client, echo("v1"))
    trigger = await make_trigger(client, first, pinned=True)
    await new_version(client, first, echo("v2"))

    delivered = await sender.post(
        trigger["path"], content=BODY, headers=standard_signed(trigger["secret"], BODY, "b")
    )

    assert trigger["pinned"] is True
    assert (await client.get(f"{API}/triggers/webhooks/{trigger['id']}")).json()["pinned"]
    assert delivered.json()["workflow_id"] == first
