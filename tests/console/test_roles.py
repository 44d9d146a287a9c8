"""The console shows only what the caller's role allows: a viewer reads workflows, runs and
the inbox, and is shown no button it may not use; a refused credential is kept nowhere."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from playwright.async_api import expect

from tests.console.conftest import SHARED_LOOP, new_key
from tests.console.pages import ConsoleTab
from tests.console.workflows import broken_draft, waiting_run

if TYPE_CHECKING:
    from playwright.async_api import Browser

    from tests.events.conftest import LiveServer

pytestmark = SHARED_LOOP


async def test_a_viewer_is_shown_no_button_it_may_not_use(
    live: LiveServer, browser: Browser, workspace: str
) -> None:
    admin = {"Authorization": f"Bearer {await new_key(live, 'admin', workspace)}"}
    async with httpx.AsyncClient(base_url=live.http, headers=admin) as client:
        run_id = await waiting_run(client)
        broken_id = await broken_draft(client)

    tab = await ConsoleTab.open(browser, live.http, 1280, "viewer")
    page = tab.page
    # A credential the API refuses is said, and kept nowhere.
    await page.goto(f"{live.http}/ui/")
    await page.get_by_label("API key or JWT").fill("tp_not_a_key")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    assert await page.evaluate("sessionStorage.length") == 0
    await tab.check("sign-in-refused")
    # The browser logs the refusal (a 401) itself; nothing after it may log an error.
    tab.errors.clear()

    await tab.sign_in(await new_key(live, "viewer", workspace))
    await expect(page.get_by_test_id("role")).to_have_text("viewer")

    await page.get_by_role("link", name="Welcome").click()
    await expect(page.get_by_text("No problems found.")).to_be_visible()
    for hidden in ("Publish", "Duplicate", "Pause workflow", "Start run"):
        await expect(page.get_by_role("button", name=hidden)).to_have_count(0)

    # Reading is a viewer's right: validation problems are pinned to their nodes.
    await page.goto(f"{live.http}/ui/workflows/{broken_id}")
    pinned = page.locator('.react-flow__node[data-id="check"] .step-problem')
    await expect(pinned).to_contain_text("config.expression: Field required")
    await expect(page.locator('.react-flow__node[data-id="greet"] .step-problem')).to_have_count(0)
    await tab.check("workflow-problems")

    await page.goto(f"{live.http}/ui/runs/{run_id}")
    await expect(page.locator('.legend [data-step="review"]')).to_have_attribute(
        "data-status", "waiting"
    )
    for hidden in ("Approve", "Reject", "Cancel run", "Pause", "Preview"):
        await expect(page.get_by_role("button", name=hidden)).to_have_count(0)
    await expect(page.locator(".react-flow__node")).to_have_count(4)
    await tab.check("run-viewer")

    await tab.go("Inbox")
    await expect(page.get_by_text("Answering needs the operator role")).to_be_visible()
    await expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    tab.assert_no_errors()
