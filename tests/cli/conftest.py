"""The client commands as a user runs them: `towpath …` subprocesses against a live server
served in the test's event loop (tests/client/conftest.py)."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tests.client.conftest import api_key, server, settings

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["api_key", "server", "settings"]
TOWPATH = Path(sys.executable).with_name("towpath")


@dataclass(frozen=True)
class Done:
    code: int
    out: str
    err: str


def environment(url: str, key: str | None, **more: str) -> dict[str, str]:
    """The environment of a command: the server's URL and key, no config file of the
    machine's user, and a terminal as wide as a person's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWPATH_")}
    env.update(TOWPATH_URL=url, TOWPATH_CONFIG="/nonexistent/config.toml", COLUMNS="120")
    if key is not None:
        env["TOWPATH_API_KEY"] = key
    env.update(more)
    return env


async def towpath(*args: str, env: Mapping[str, str]) -> Done:
    """Runs `towpath ARGS` while this event loop goes on serving."""
    process = await asyncio.create_subprocess_exec(
        TOWPATH,
        *args,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return Done(process.returncode, out.decode(), err.decode())
