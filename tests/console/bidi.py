"""A small WebDriver BiDi client for Debian's Firefox ESR, which Playwright cannot drive: it
starts the browser headless on a fresh profile, speaks BiDi over the browser's WebSocket,
and keeps every console error and uncaught exception the page logs."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import time
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import websockets

from tests.waiting import INTERVAL

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from websockets.asyncio.client import ClientConnection

# A quiet browser: no first-run pages, updates, telemetry or checks that call out.
PREFERENCES = {
    "remote.active-protocols": 1,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.aboutwelcome.enabled": False,
    "app.update.disabledForTesting": True,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
}


class BiDiError(Exception):
    pass


class Firefox:
    """One BiDi session of one browser, on its first tab."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())
        self.context = ""
        self.errors: list[str] = []

    async def _read(self) -> None:
        async for raw in self._socket:
            message = json.loads(raw)
            if "id" in message and message["id"] in self._waiting:
                self._waiting.pop(message["id"]).set_result(message)
            elif message.get("method") == "log.entryAdded":
                entry = message["params"]
                if entry.get("level") == "error":
                    self.errors.append(f"{entry.get('type')}: {entry.get('text')}")

    async def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        ident = next(self._ids)
        answer = asyncio.get_running_loop().create_future()
        self._waiting[ident] = answer
        await self._socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        async with asyncio.timeout(60):
            message = await answer
        if message.get("type") == "error":
            raise BiDiError(f"{method}: {message.get('error')}: {message.get('message')}")
        result: dict[str, Any] = message["result"]
        return result

    async def navigate(self, url: str) -> None:
        await self.call(
            "browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"}
        )

    async def run(self, function: str, *args: Any) -> Any:
        """The value `function(...args)` gives (awaited), in the page, through JSON."""
        result = await self.call(
            "script.callFunction",
            {
                "functionDeclaration": (
                    f"async (...a) => JSON.stringify(await ({function})(...a.map(JSON.parse)))"
                ),
                "arguments": [{"type": "string", "value": json.dumps(arg)} for arg in args],
                "target": {"context": self.context},
                "awaitPromise": True,
            },
        )
        if result["type"] == "exception":
            raise BiDiError(result["exceptionDetails"]["text"])
        text = result["result"].get("value")
        return None if text is None else json.loads(text)

    async def until(self, function: str, *args: Any, seconds: float = 20.0) -> Any:
        """Until `function(...args)` is truthy in the page; its value then."""
        deadline = time.monotonic() + seconds
        while True:
            found = await self.run(function, *args)
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"Firefox waited {seconds} s in vain for {function} {args}")
            await asyncio.sleep(INTERVAL * 5)

    async def type_into(self, selector: str, text: str) -> None:
        """Focuses the field and types `text` as keystrokes, as a person would."""
        await self.run("(s) => document.querySelector(s).focus()", selector)
        keys = [{"type": kind, "value": char} for char in text for kind in ("keyDown", "keyUp")]
        await self.call(
            "input.performActions",
            {"context": self.context, "actions": [{"type": "key", "id": "keys", "actions": keys}]},
        )

    async def close(self) -> None:
        """Closes the browser itself, then stops reading."""
        with contextlib.suppress(BiDiError, TimeoutError, websockets.ConnectionClosed):
            await self.call("browser.close", {})
        self._reader.cancel()

    async def screenshot(self, path: Path) -> None:
        shot = await self.call(
            "browsingContext.captureScreenshot", {"context": self.context, "origin": "document"}
        )
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))


@asynccontextmanager
async def firefox(binary: Path, profile: Path, width: int = 1280) -> AsyncIterator[Firefox]:
    """Firefox on a fresh profile, headless, with a BiDi session on its first tab."""
    (profile / "user.js").write_text(
        "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in PREFERENCES.items())
    )
    process = await asyncio.create_subprocess_exec(
        binary,
        "--headless",
        "--no-remote",
        "--remote-debugging-port=0",
        "--profile",
        str(profile),
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        # Its own home: nothing of the user's is read or written.
        env={**os.environ, "HOME": str(profile)},
    )
    try:
        port = await _listening_port(profile)
        async with websockets.connect(f"ws://127.0.0.1:{port}/session", max_size=None) as socket:
            browser = Firefox(socket)
            try:
                await browser.call("session.new", {"capabilities": {}})
                await browser.call("session.subscribe", {"events": ["log.entryAdded"]})
                tree = await browser.call("browsingContext.getTree", {"maxDepth": 0})
                browser.context = tree["contexts"][0]["context"]
                viewport = {"width": width, "height": 900}
                await browser.call(
                    "browsingContext.setViewport",
                    {"context": browser.context, "viewport": viewport},
                )
                yield browser
            finally:
                await browser.close()
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(10):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


async def _listening_port(profile: Path) -> int:
    """The port Firefox chose: it writes it to the profile once BiDi listens."""
    written = profile / "WebDriverBiDiServer.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError, json.JSONDecodeError, KeyError):
            port: int = json.loads(written.read_text())["ws_port"]
            return port
        await asyncio.sleep(0.1)
    raise AssertionError("Firefox did not start WebDriver BiDi within 60 s")
