"""The runs list follows the workspace's live stream: a run started through the API shows
up and changes status on the open page without a reload, and after a dropped stream the
page reads again what it missed, then goes on live."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

import httpx
from playwright.async_api import expect

from tests.console.conftest import SHARED_LOOP, new_key
from tests.console.pages import ConsoleTab
from tests.console.workflows import draft
from tests.runs import start, wait_for_step
from tests.waiting import eventually

if TYPE_CHECKING:
    from playwright.async_api import Browser, Locator, Page, WebSocketRoute

    from tests.events.conftest import LiveServer

pytestmark = SHARED_LOOP


def status_of(page: Page, run_id: str) -> Locator:
    # By the link's target: ids made within a minute share their first characters.
    row = page.get_by_role("row").filter(has=page.locator(f'a[href="/ui/runs/{run_id}"]'))
    return row.locator(".badge")


async def test_the_runs_list_shows_runs_start_and_change_live(
    live: LiveServer, browser: Browser, workspace: str
) -> None:
    admin = {"Authorization": f"Bearer {await new_key(live, 'admin', workspace)}"}
    async with httpx.AsyncClient(base_url=live.http, headers=admin) as client:
        workflow_id = await draft(client)
        assert (await client.post(f"/api/v1/workflows/{workflow_id}/publish")).status_code == 200

        tab = await ConsoleTab.open(browser, live.http, 1280, "live")
        page = tab.page
        # Every workspace socket passes through here; while `cut` is set, each is dropped
        # as soon as it opens, as by a server that keeps restarting.
        sockets: list[WebSocketRoute] = []
        cut = asyncio.Event()

        async def through(route: WebSocketRoute) -> None:
            sockets.append(route)
            if cut.is_set():
                await route.close(code=1012, reason="restarting")
            else:
                route.connect_to_server()

        await page.route_web_socket(re.compile(r"/ws/stream$"), through)
        await tab.sign_in(await new_key(live, "operator", workspace), "/ui/runs")
        await expect(page.get_by_role("heading", level=1, name="Runs")).to_be_visible()
        await expect(page.get_by_test_id("stream-state")).to_have_text("live")
        await expect(page.get_by_text("0 runs;")).to_be_visible()
        # Gone if the page were loaded again.
        await page.evaluate("window.keptAlive = true")

        first = (await start(client, workflow_id, {"name": "Ann"}))["id"]
        await expect(status_of(page, first)).to_have_text("waiting")

        cancelled = await client.post(f"/api/v1/runs/{first}/cancel", json={})
        assert cancelled.status_code == 200, cancelled.text
        await expect(status_of(page, first)).to_have_text("cancelled")
        await tab.check("runs")

        # The stream drops and stays down while a second run starts and waits: its events
        # reach no socket of this page.
        cut.set()
        await sockets[0].close(code=1012, reason="restarting")
        await expect(page.get_by_test_id("stream-state")).to_have_text("reconnecting")
        second = (await start(client, workflow_id, {"name": "Bo"}))["id"]
        await wait_for_step(client, second, "review", "waiting")
        dropped = len(sockets)
        cut.clear()
        await eventually(lambda: len(sockets) > dropped, what="a socket after the drop")
        await expect(page.get_by_test_id("stream-state")).to_have_text("live")
        await expect(status_of(page, second)).to_have_text("waiting")
        await expect(page.get_by_text("2 runs;")).to_be_visible()

        # Live again: its cancellation comes over the new socket.
        cancelled = await client.post(f"/api/v1/runs/{second}/cancel", json={})
        assert cancelled.status_code == 200, cancelled.text
        await expect(status_of(page, second)).to_have_text("cancelled")
        assert await page.evaluate("window.keptAlive === true")
        tab.assert_no_errors()
