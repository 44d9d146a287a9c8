"""WS /ws/inbox: the caller's inbox as it is, then each item added when a step starts
waiting for the caller, changed when a vote comes in, removed when it is decided."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from tests.events.clients import receive, socket
from tests.inbox.conftest import publish_review
from tests.runs import start, wait_for
from tests.steering.conftest import decide, new_key

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

    from tests.events.conftest import LiveServer


async def test_the_feed_adds_an_item_when_a_step_waits_and_removes_it_once_decided(
    app: FastAPI, server: LiveServer, client: httpx.AsyncClient
) -> None:
    ana, bo = await new_key(app, name="ana"), await new_key(app, name="bo")
    viewer = await new_key(app, "viewer")
    workflow_id = await publish_review(client, approvers=[ana.principal, bo.principal], quorum=2)
    async with (
        socket(server, "/ws/inbox", ana.headers) as mine,
        socket(server, "/ws/inbox", viewer.headers) as theirs,
    ):
        assert await receive(mine) == {"type": "snapshot", "count": 0, "items": []}
        assert (await receive(theirs))["count"] == 0
        run_id = (await start(client, workflow_id))["id"]

        added = await receive(mine)
        assert (added["type"], added["count"]) == ("added", 1)
        assert (added["item"]["run_id"], added["item"]["step_id"]) == (run_id, "review")
        assert added["item"]["approval"]["quorum"] == 2

        # Bo's vote leaves the step waiting for Ana, with one more vote in.
        assert (await decide(client, run_id, bo, {"approved": True})).status_code == 200
        changed = await receive(mine)
        assert (changed["type"], changed["count"]) == ("changed", 1)
        assert [v["by"] for v in changed["item"]["approval"]["votes"]] == [bo.principal]

        assert (await decide(client, run_id, ana, {"approved": True})).status_code == 200
        removed = await receive(mine)
        assert removed == {"type": "removed", "run_id": run_id, "step_id": "review", "count": 0}
        await wait_for(client, run_id, "completed")
        # The viewer's inbox never held the step: its feed sends nothing but pings.
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.8):
                await receive(theirs)
    await server.subscribers_gone()
    # A reopened feed starts from the inbox as it is now.
    again = await start(client, workflow_id)
    await wait_for(client, again["id"], "waiting")
    async with socket(server, "/ws/inbox", ana.headers) as reopened:
        snapshot = await receive(reopened)
        assert snapshot["count"] == 1
        assert snapshot["items"][0]["run_id"] == again["id"]
