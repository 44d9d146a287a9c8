"""A browser tab on the console: signs in, keeps a screenshot of each page it checks, runs
axe-core there, and remembers every console error and uncaught exception."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playwright.async_api import expect

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "console"
# axe-core 4.14.1 (MPL-2.0), as console/package.json pins it: kept here so the tests need
# no node_modules.
AXE = (Path(__file__).with_name("axe.min.js")).read_text(encoding="utf-8")
BLOCKING = ("serious", "critical")
# Generous for a busy machine: every wait ends as soon as its condition holds.
expect.set_options(timeout=20_000)


def assert_accessible(name: str, violations: list[dict[str, Any]]) -> None:
    """Fails on axe-core's serious or critical findings, naming each and where it is."""
    blocking = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in violations
        if v["impact"] in BLOCKING
    ]
    assert not blocking, f"axe on {name}: {json.dumps(blocking, indent=1)}"


class ConsoleTab:
    def __init__(self, page: Page, base: str, label: str) -> None:
        self.page = page
        self.base = base
        self.label = label
        self.errors: list[str] = []
        page.on("console", lambda message: self._console(message.type, message.text))
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    @classmethod
    async def open(cls, browser: Browser, base: str, width: int, label: str) -> ConsoleTab:
        page = await browser.new_page(viewport={"width": width, "height": 900})
        page.set_default_timeout(20_000)
        return cls(page, base, f"{label}-{width}")

    def _console(self, kind: str, text: str) -> None:
        if kind == "error":
            self.errors.append(text)

    async def sign_in(self, key: str, path: str = "/ui/") -> None:
        await self.page.goto(self.base + path)
        await self.page.get_by_label("API key or JWT").fill(key)
        await self.page.get_by_role("button", name="Sign in").click()
        await expect(self.page.get_by_test_id("role")).to_be_visible()

    async def go(self, section: str) -> None:
        """Through the console's own navigation: a link of the header, as a person would."""
        await (
            self.page.get_by_role("navigation", name="Sections")
            .get_by_role("link", name=section)
            .click()
        )
        await expect(self.page.get_by_role("heading", level=1, name=section)).to_be_visible()

    async def check(self, name: str) -> None:
        """Keeps a screenshot of the page and fails on axe-core's serious or critical findings."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=ARTIFACTS / f"{name}-{self.label}.png", full_page=True)
        if not await self.page.evaluate("typeof window.axe !== 'undefined'"):
            # Evaluated by the browser's debugger, not as a page script: the page's CSP stays.
            await self.page.evaluate(AXE)
        found: list[dict[str, Any]] = await self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        )
        assert_accessible(name, found)

    def assert_no_errors(self) -> None:
        assert not self.errors, f"console errors: {self.errors}"
