"""A run page whose socket drops reconnects with `after` = the last event it saw, and goes
on showing the run live without a snapshot or a page reload."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import httpx
from playwright.async_api import expect

from tests.console.conftest import SHARED_LOOP, new_key
from tests.console.pages import ConsoleTab
from tests.console.workflows import waiting_run
from tests.waiting import eventually

if TYPE_CHECKING:
    from playwright.async_api import Browser, WebSocketRoute

    from tests.events.conftest import LiveServer

pytestmark = SHARED_LOOP


async def test_a_dropped_run_stream_resumes_after_the_last_event_seen(
    live: LiveServer, browser: Browser, workspace: str
) -> None:
    key = await new_key(live, "operator", workspace)
    admin = {"Authorization": f"Bearer {await new_key(live, 'admin', workspace)}"}
    async with httpx.AsyncClient(base_url=live.http, headers=admin) as client:
        run_id = await waiting_run(client)

        tab = await ConsoleTab.open(browser, live.http, 1280, "resume")
        page = tab.page
        # Every run socket passes through here on its way to the real server.
        sockets: list[WebSocketRoute] = []

        async def through(route: WebSocketRoute) -> None:
            route.connect_to_server()
            sockets.append(route)

        await page.route_web_socket(re.compile(r"/ws/runs/"), through)
        await tab.sign_in(key, f"/ui/runs/{run_id}")
        review = page.locator('.legend [data-step="review"]')
        await expect(review).to_have_attribute("data-status", "waiting")
        await expect(page.get_by_test_id("stream-state")).to_have_text("live")
        seen = int(await page.get_by_test_id("last-seq").inner_text())
        assert seen > 0

        # The server restarts (1012): the page reconnects after what it had seen.
        await sockets[0].close(code=1012, reason="restarting")
        await eventually(lambda: len(sockets) == 2, what="a second run socket")
        assert sockets[1].url.endswith(f"/ws/runs/{run_id}?after={seen}")
        await expect(page.get_by_test_id("stream-state")).to_have_text("live")

        approved = await client.post(
            f"/api/v1/runs/{run_id}/approve", json={"step_id": "review", "approved": True}
        )
        assert approved.status_code == 200, approved.text
        await expect(review).to_have_attribute("data-status", "completed")
        await expect(page.locator('.legend [data-step="ask"]')).to_have_attribute(
            "data-status", "waiting"
        )
        assert int(await page.get_by_test_id("last-seq").inner_text()) > seen
        tab.assert_no_errors()
