"""Browser tests of the web console: a real server in the test's loop, Debian's Chromium
driven by Playwright (never a downloaded browser), screenshots kept under
test-artifacts/console/, and axe-core run on every page."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import async_playwright

from tests.events.conftest import serving
from towpath.services.api_keys import issue_workspace_key

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI
    from playwright.async_api import Browser

    from tests.events.conftest import LiveServer
    from towpath.config import Settings

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Steps picked up within a blink, so a test watches a run rather than waits for it.
    return settings.model_copy(update={"poll_seconds": 0.05, "stream_heartbeat_seconds": 2.0})


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium: without it the browser tests skip, except in CI, where they fail."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI runs the console's browser tests: install {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        found = await playwright.chromium.launch(executable_path=str(chromium))
        try:
            yield found
        finally:
            await found.close()


@pytest.fixture
async def live(app: FastAPI) -> AsyncIterator[LiveServer]:
    async with serving(app) as server:
        yield server


async def new_key(app: FastAPI, role: str) -> str:
    issued = await issue_workspace_key(app.state.db, f"console {role}", role)
    plaintext: str = issued.plaintext
    return plaintext
