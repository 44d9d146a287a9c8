"""An operator's day in the console, in Chromium at a desktop's width: sign in,
publish a workflow, start a run from the form its input schema generates, watch its steps
turn green live, answer its waiting steps from the inbox in another tab, retry it from a
step after the dry-run preview, then read the runs list and the workflow's stats; then
every page again at a phone's width."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from playwright.async_api import expect

from tests.console.conftest import SHARED_LOOP, new_key
from tests.console.pages import ConsoleTab
from tests.console.workflows import STEPS, draft
from tests.runs import event_types
from tests.waiting import eventually

if TYPE_CHECKING:
    from playwright.async_api import Browser, Locator, Page

    from tests.events.conftest import LiveServer

pytestmark = SHARED_LOOP

PHONE = 390


def chip(page: Page, step: str) -> Locator:
    return page.locator(f'.legend [data-step="{step}"]')


async def finished_after(page: Page, seq: int) -> bool:
    """Whether the run page shows a finished run with events after `seq`."""
    seen = int(await page.get_by_test_id("last-seq").inner_text())
    status = await page.get_by_test_id("run-status").inner_text()
    state = await page.get_by_test_id("stream-state").inner_text()
    return seen > seq and status == "completed" and state == "ended"


async def test_an_operator_runs_a_workflow_from_start_to_retry(
    live: LiveServer, browser: Browser, database_url: str, workspace: str
) -> None:
    key = await new_key(live, "admin", workspace)
    backend = database_url.split("+", 1)[0]
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=live.http, headers=headers) as client:
        workflow_id = await draft(client)
        tab = await ConsoleTab.open(browser, live.http, 1280, backend)
        page = tab.page
        await tab.sign_in(key)
        await expect(page.get_by_role("heading", level=1, name="Workflows")).to_be_visible()
        await tab.check("workflows")

        await page.get_by_role("link", name="Welcome").click()
        await page.get_by_role("button", name="Publish").click()
        await expect(page.get_by_text("Published.")).to_be_visible()
        await expect(page.get_by_text("No problems found.")).to_be_visible()
        await expect(page.locator(".react-flow__node")).to_have_count(len(STEPS))
        await tab.check("workflow")

        await page.get_by_label("Name (required)").fill("Ann")
        await page.get_by_role("button", name="Start run").click()
        await expect(chip(page, "greet")).to_have_attribute("data-status", "completed")
        await expect(chip(page, "review")).to_have_attribute("data-status", "waiting")
        run_id = page.url.rsplit("/", 1)[-1]
        await expect(page.locator(".react-flow__node")).to_have_count(len(STEPS))
        await tab.check("run-waiting")

        # The inbox in a second tab; the run's tab is told of each answer over its socket.
        inbox = await ConsoleTab.open(browser, live.http, 1280, backend)
        await inbox.sign_in(key, "/ui/inbox")
        review = inbox.page.locator('li[data-step="review"]')
        await expect(review.get_by_text("Send the welcome to Ann?")).to_be_visible()
        await inbox.check("inbox-approval")
        await review.get_by_label("Comment (optional)").fill("looks right")
        await review.get_by_role("button", name="Approve").click()
        await expect(chip(page, "review")).to_have_attribute("data-status", "completed")
        await expect(chip(page, "ask")).to_have_attribute("data-status", "waiting")

        ask = inbox.page.locator('li[data-step="ask"]')
        await ask.get_by_label("Which tone? (required)").select_option("warm")
        await ask.get_by_label("How many copies? (required)").fill("2")
        await inbox.check("inbox-clarification")
        await ask.get_by_role("button", name="Answer ask").click()
        await expect(inbox.page.get_by_text("Nothing is waiting for you.")).to_be_visible()

        for step in STEPS:
            await expect(chip(page, step)).to_have_attribute("data-status", "completed")
        await expect(page.get_by_test_id("run-status")).to_have_text("completed")
        await expect(page.locator(".react-flow__node .step.status-completed")).to_have_count(
            len(STEPS)
        )
        for step in STEPS:
            # Drawn, not only present: React Flow hides a node it has not measured.
            await expect(page.locator(f'.react-flow__node[data-id="{step}"]')).to_be_visible()
        await chip(page, "ask").click()
        details = page.get_by_role("article", name="Step ask")
        await expect(details.get_by_text('"tone": "warm"').first).to_be_visible()
        await tab.check("run")
        ended_at = int(await page.get_by_test_id("last-seq").inner_text())

        await page.get_by_label("Retry from step").select_option("done")
        await page.get_by_role("button", name="Preview").click()
        plan = page.get_by_test_id("retry-plan")
        await expect(plan).to_contain_text("runs again: done; keeps: greet, review, ask")
        await tab.check("run-retry-preview")
        await page.get_by_role("button", name="Retry from done").click()
        await expect(page.get_by_text("Retried from done.")).to_be_visible()
        # The stream closed with the run; it reopens after the last event it had seen and
        # follows the retried run to its end.
        await eventually(lambda: finished_after(page, ended_at), what="the retried run's end")
        assert (await event_types(client, run_id)).count("run.retried") == 1
        await expect(chip(page, "done")).to_have_attribute("data-status", "completed")

        await tab.go("Runs")
        await expect(page.get_by_role("link", name=run_id[-8:])).to_be_visible()
        await tab.check("runs")

        await page.goto(f"{live.http}/ui/workflows/{workflow_id}/stats")
        await expect(page.get_by_test_id("total-runs")).to_have_text("1")
        await expect(page.get_by_role("img", name="Runs by status in each part")).to_be_visible()
        await tab.check("stats")

        await on_a_phone(tab, workflow_id, run_id)
        tab.assert_no_errors()
        inbox.assert_no_errors()


async def on_a_phone(tab: ConsoleTab, workflow_id: str, run_id: str) -> None:
    """Every page again at a phone's width, 390 px: usable, and clean for axe-core."""
    page = tab.page
    await page.set_viewport_size({"width": PHONE, "height": 844})
    tab.label = tab.label.replace("-1280", f"-{PHONE}")
    base = tab.base
    pages = {
        "workflows": ("/ui/workflows", page.get_by_role("link", name="Welcome")),
        "workflow": (f"/ui/workflows/{workflow_id}", page.get_by_text("No problems found.")),
        "run": (f"/ui/runs/{run_id}", page.locator(".react-flow__node .status-completed")),
        "inbox": ("/ui/inbox", page.get_by_text("Nothing is waiting for you.")),
        "runs": ("/ui/runs", page.get_by_role("link", name=run_id[-8:])),
        "stats": (f"/ui/workflows/{workflow_id}/stats", page.get_by_test_id("total-runs")),
    }
    for name, (path, shown) in pages.items():
        await page.goto(base + path)
        await expect(shown.first).to_be_visible()
        if name == "run":
            await expect(shown).to_have_count(len(STEPS))
        await tab.check(name)
        # Nothing runs off the side: the page scrolls down, never across.
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE
