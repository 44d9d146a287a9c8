"""Waiting in tests: poll a condition until it holds or a deadline passes, never a fixed sleep."""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

# Often enough that a test ends soon after its condition holds, seldom enough that polling
# through the API does not crowd out the worker it waits on.
INTERVAL = 0.02


async def eventually(
    holds: Callable[[], Awaitable[bool] | bool], seconds: float = 10.0, what: str = ""
) -> float:
    """Until `holds()` is true (it may be a coroutine function); how long that took.
    Past `seconds` the test fails, saying `what` it waited for."""
    began = time.monotonic()
    try:
        async with asyncio.timeout(seconds):
            while True:
                found = holds()
                if await found if inspect.isawaitable(found) else found:
                    return time.monotonic() - began
                await asyncio.sleep(INTERVAL)
    except TimeoutError:
        raise AssertionError(f"not within {seconds} s: {what or 'the condition'}") from None
