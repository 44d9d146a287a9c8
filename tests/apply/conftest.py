"""A real server for the command line: the test's app served by uvicorn on a free port, and
`towpath apply` / `towpath export` run against it as a user runs them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from tests.events.conftest import serving
from towpath.cli import app as cli

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI
    from typer.testing import Result

    from towpath.config import Settings


@dataclass(frozen=True)
class Towpath:
    """The command line, pointed at the served app with the workspace admin's key."""

    url: str
    api_key: str

    async def run(self, *args: str) -> Result:
        env = {"TOWPATH_URL": self.url, "TOWPATH_API_KEY": self.api_key}

        def invoke() -> Result:
            return CliRunner().invoke(cli, list(args), env=env)

        # In a thread: the command runs its own event loop, the server goes on in this one.
        return await asyncio.to_thread(invoke)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"poll_seconds": 0.05})


@pytest.fixture
async def towpath(app: FastAPI, auth_headers: dict[str, str]) -> AsyncIterator[Towpath]:
    key = auth_headers["Authorization"].removeprefix("Bearer ")
    async with serving(app) as live:
        yield Towpath(live.http, key)
