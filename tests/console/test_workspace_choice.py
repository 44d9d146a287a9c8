"""A person who signs in with a JWT and names one of their workspaces sees that workspace
in the console, its live streams included: a socket carries no X-Workspace header, so the
console opens it with a stream token made in the named workspace."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

import httpx
import jwt
from playwright.async_api import expect

from tests.console.conftest import JWT_SECRET, SHARED_LOOP, new_key
from tests.console.pages import ConsoleTab
from tests.console.workflows import waiting_run

if TYPE_CHECKING:
    from playwright.async_api import Browser

    from tests.events.conftest import LiveServer

pytestmark = SHARED_LOOP


def token_of(subject: str) -> str:
    now = int(time.time())
    claims = {"sub": subject, "aud": "authenticated", "iat": now, "exp": now + 600}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


async def test_a_jwt_user_watches_a_run_of_the_workspace_it_named(
    live: LiveServer, browser: Browser, workspace: str
) -> None:
    subject = f"user-{uuid.uuid4().hex[:8]}"
    second = f"{workspace}-b"
    # Its first workspace, where its requests go unless it names another.
    first_admin = {"Authorization": f"Bearer {await new_key(live, 'admin', workspace)}"}
    second_admin = {"Authorization": f"Bearer {await new_key(live, 'admin', second)}"}
    async with httpx.AsyncClient(base_url=live.http) as client:
        for headers, role in ((first_admin, "viewer"), (second_admin, "operator")):
            added = await client.post(
                "/api/v1/members", json={"subject": subject, "role": role}, headers=headers
            )
            assert added.status_code == 201, added.text
        client.headers.update(second_admin)
        run_id = await waiting_run(client)

    tab = await ConsoleTab.open(browser, live.http, 1280, "jwt")
    page = tab.page
    await page.goto(f"{live.http}/ui/runs/{run_id}")
    await page.get_by_label("API key or JWT").fill(token_of(subject))
    await page.get_by_label("Workspace (optional, JWT users in several)").fill(second)
    await page.get_by_role("button", name="Sign in").click()

    await expect(page.get_by_test_id("role")).to_have_text("operator")
    await expect(page.get_by_test_id("identity")).to_have_text(f"{subject} · {second}")
    await expect(page.get_by_test_id("stream-state")).to_have_text("live")
    await expect(page.locator('.legend [data-step="review"]')).to_have_attribute(
        "data-status", "waiting"
    )
    await tab.go("Runs")
    await expect(page.get_by_test_id("stream-state")).to_have_text("live")
    await expect(page.locator(f'a[href="/ui/runs/{run_id}"]')).to_be_visible()
    tab.assert_no_errors()
