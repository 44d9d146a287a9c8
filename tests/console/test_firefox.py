"""The console in Firefox (Debian's Firefox ESR, over WebDriver BiDi): sign in with an API
key, read the workflows and runs, approve a waiting step from the inbox, and watch the run's
graph turn green live, with no console error and axe-core clean on every page."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.console.bidi import Firefox, firefox
from tests.console.conftest import SHARED_LOOP, installed, new_key
from tests.console.pages import ARTIFACTS, AXE, assert_accessible
from tests.console.workflows import STEPS, waiting_run

if TYPE_CHECKING:
    from tests.events.conftest import LiveServer

pytestmark = SHARED_LOOP
FIREFOX = Path("/usr/bin/firefox-esr")
SHOWN = "(s) => document.querySelector(s) !== null"
TEXT = "(s) => document.querySelector(s)?.textContent ?? null"
# Waits for one text: the stream's state is "connecting" before it is "live".
READS = "(s, t) => document.querySelector(s)?.textContent === t"
GREEN = ".step.status-completed"
STATUS = "(s) => document.querySelector(`.legend [data-step='${s}']`)?.dataset.status ?? null"


@pytest.fixture(scope="session")
def firefox_esr() -> Path:
    return installed(FIREFOX, "firefox-esr")


async def check(browser: Firefox, name: str) -> None:
    """Keeps a screenshot of the page and fails on axe-core's serious or critical findings."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await browser.screenshot(ARTIFACTS / f"firefox-{name}.png")
    if not await browser.run("() => typeof window.axe !== 'undefined'"):
        # Evaluated by the browser's debugger, not as a page script: the page's CSP stays.
        await browser.run(f"() => {{ {AXE}\n; return true; }}")
    found = await browser.run(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    assert_accessible(f"{name} in Firefox", found)


async def test_the_console_works_in_firefox(
    live: LiveServer, firefox_esr: Path, workspace: str, tmp_path: Path
) -> None:
    admin = {"Authorization": f"Bearer {await new_key(live, 'admin', workspace)}"}
    async with (
        httpx.AsyncClient(base_url=live.http, headers=admin) as client,
        firefox(firefox_esr, tmp_path) as browser,
    ):
        run_id = await waiting_run(client)

        await browser.navigate(f"{live.http}/ui/")
        await browser.type_into("#credential", await new_key(live, "operator", workspace))
        await browser.run("() => document.querySelector('form button[type=submit]').click()")
        assert await browser.until(TEXT, "[data-testid=role]") == "operator"
        await browser.until(
            "() => [...document.querySelectorAll('a')].some(a => a.textContent === 'Welcome')"
        )
        await check(browser, "workflows")

        await browser.navigate(f"{live.http}/ui/runs")
        assert await browser.until(TEXT, f"tr:has(a[href='/ui/runs/{run_id}']) .badge") == "waiting"
        await browser.until(READS, "[data-testid=stream-state]", "live")
        await check(browser, "runs")

        await browser.navigate(f"{live.http}/ui/inbox")
        await browser.until(SHOWN, "li[data-step=review]")
        await check(browser, "inbox")
        await browser.run(
            """() => [...document.querySelectorAll('li[data-step=review] button')]
                .find((b) => b.textContent.trim() === 'Approve').click()"""
        )
        # The inbox's socket brings the next waiting step, the run's clarification.
        await browser.until(SHOWN, "li[data-step=ask]")
        assert await browser.run(SHOWN, "li[data-step=review]") is False

        await browser.navigate(f"{live.http}/ui/runs/{run_id}")
        assert await browser.until(STATUS, "ask") == "waiting"
        await browser.until(READS, "[data-testid=stream-state]", "live")
        answered = await client.post(
            f"/api/v1/runs/{run_id}/clarify",
            json={"step_id": "ask", "answers": {"tone": "warm", "copies": 2}},
        )
        assert answered.status_code == 200, answered.text
        # Told over the run's socket: every node of the graph turns green.
        green = (
            "(n) => document.querySelectorAll('.react-flow__node .status-completed').length === n"
        )
        await browser.until(green, len(STEPS))
        await browser.until(READS, "[data-testid=run-status]", "completed")
        assert [await browser.run(STATUS, step) for step in STEPS] == ["completed"] * len(STEPS)
        await check(browser, "run")
        assert not browser.errors, f"console errors in Firefox: {browser.errors}"
