"""Browser tests of the web console: a real server, Debian's Chromium driven by Playwright
(never a downloaded browser), screenshots kept under test-artifacts/console/, and axe-core
run on every page.

One server and one browser serve every test of a database (a server's start and its
engine's cost most of a browser test's time otherwise): each test works in a workspace of
its own, so what it sees is only what it made. The tests run in the session's event loop,
the server's.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio
from playwright.async_api import async_playwright
from sqlalchemy.engine import make_url

from tests.conftest import BACKENDS, POSTGRES_URL, _admin, _migrate
from tests.events.conftest import serving
from towpath.app import create_app
from towpath.config import Settings
from towpath.services.api_keys import issue_workspace_key

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from playwright.async_api import Browser

    from tests.events.conftest import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
# JWTs signed with it are accepted, for the tests of people who sign in with one.
JWT_SECRET = "console-tests-secret-of-at-least-32-characters"
# Every test module here: `pytestmark = SHARED_LOOP`.
SHARED_LOOP = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database of the console's tests alone: other tests empty the suite's shared
    PostgreSQL database between them, which would pull it from under the live server."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("console") / "towpath.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = f"towpath_console_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_migrate(url))
    yield url
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def live(database_url: str) -> AsyncIterator[LiveServer]:
    settings = Settings(
        database_url=database_url,
        # A suite's browsers send many requests a second from one address.
        rate_limit_address_per_minute=0,
        rate_limit_credential_per_minute=0,
        # Steps picked up within a blink, so a test watches a run rather than waits for it.
        poll_seconds=0.05,
        stream_heartbeat_seconds=2.0,
        jwt_secret=JWT_SECRET,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app), serving(app) as server:
        yield server


def installed(browser: Path, package: str) -> Path:
    """A browser of the system's: without it its tests skip, except in CI, where they fail."""
    if not browser.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI runs the console's browser tests: install {package} ({browser})")
        pytest.skip(f"no {browser}: `apt-get install {package}` runs these tests")
    return browser


@pytest.fixture(scope="session")
def chromium() -> Path:
    return installed(CHROMIUM, "chromium")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def shared_browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        found = await playwright.chromium.launch(executable_path=str(chromium))
        try:
            yield found
        finally:
            await found.close()


@pytest_asyncio.fixture(loop_scope="session")
async def browser(shared_browser: Browser) -> AsyncIterator[Browser]:
    """The session's Chromium; the tabs a test opened close when it ends, and their sockets
    with them."""
    yield shared_browser
    for context in shared_browser.contexts:
        await context.close()


@pytest.fixture
def workspace() -> str:
    """The slug of a workspace of the test's own, made with its first key."""
    return f"console-{uuid.uuid4().hex[:10]}"


async def new_key(live: LiveServer, role: str, workspace: str) -> str:
    issued = await issue_workspace_key(
        live.app.state.db, f"console {role}", role, workspace=workspace
    )
    plaintext: str = issued.plaintext
    return plaintext
