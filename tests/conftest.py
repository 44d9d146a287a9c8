"""Shared fixtures: every test that takes `client` or `db` runs on SQLite and, when
TOWPATH_TEST_POSTGRES_URL is set, again on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.runs import admin_headers
from towpath.app import create_app
from towpath.config import Settings
from towpath.storage.database import Database
from towpath.storage.migrate import upgrade
from towpath.storage.models import Base

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Coroutine, Iterator
    from pathlib import Path

    from fastapi import FastAPI

pytest_plugins = ["tests.servers"]

POSTGRES_URL = os.environ.get("TOWPATH_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("CI") == "true" and not POSTGRES_URL:
        pytest.exit("CI must run the PostgreSQL pass: set TOWPATH_TEST_POSTGRES_URL", returncode=1)


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db)
        if db.is_sqlite:
            async with db.engine.connect() as conn:
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await db.dispose()


async def _admin(sql: str) -> None:
    admin = Database(POSTGRES_URL, sqlite_synchronous="FULL")
    try:
        async with admin.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(sql))
    finally:
        await admin.dispose()


def _run_apart(work: Coroutine[Any, Any, None]) -> None:
    """Runs `work` on an event loop of its own thread: a session fixture first asked for
    from inside an async fixture (`private_db`) is made while a loop already runs."""
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, work).result()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "towpath.db"
    _run_apart(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"towpath_test_{uuid.uuid4().hex[:10]}"
    _run_apart(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    _run_apart(_migrate(url))
    yield url
    _run_apart(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
async def private_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database of the test's own, with no app running on it: a test that takes
    the schema down and up must not race a worker's statements (PostgreSQL answers that
    with a deadlock) nor leave a half-built schema to the tests after it."""
    if request.param == "sqlite":
        path = tmp_path / "private.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite+aiosqlite:///{path}"
        name = ""
    else:
        name = f"towpath_private_{uuid.uuid4().hex[:10]}"
        await _admin(f'CREATE DATABASE "{name}"')
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        await _migrate(url)
    database = Database(url)
    try:
        yield database
    finally:
        await database.dispose()
        if name:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _empty(url: str) -> None:
    """Every table emptied and every sequence back at 1. DELETE, not TRUNCATE: a TRUNCATE of
    every table gives each a new file and takes 0.6 s; deleting a test's few rows takes
    milliseconds."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            for table in reversed(Base.metadata.sorted_tables):
                await session.execute(table.delete())
            await session.execute(
                text(
                    "SELECT setval(quote_ident(sequencename), 1, false) FROM pg_sequences"
                    " WHERE schemaname = current_schema()"
                )
            )
    finally:
        await db.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    # Sync on purpose: session fixtures run their own event loops, outside the test's.
    if request.param == "sqlite":
        path = tmp_path / "towpath.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(_empty(url))
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        # The tests' local servers listen on loopback; tests of the guard use their own.
        step_allowed_hosts=["127.0.0.0/8", "::1", "localhost"],
        # A suite sends hundreds of requests a second from one address and one key.
        rate_limit_address_per_minute=0,
        rate_limit_credential_per_minute=0,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def auth_headers(app: FastAPI) -> dict[str, str]:
    """Headers that authenticate a test's requests and sockets as the workspace's admin."""
    return await admin_headers(app)


@pytest.fixture
async def client(app: FastAPI, auth_headers: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://towpath.test", headers=auth_headers
    ) as c:
        yield c


@pytest.fixture
async def db(app: FastAPI) -> Database:
    database: Database = app.state.db
    return database
