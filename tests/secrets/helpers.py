"""Making secrets over the API, and every form a value may take where it would leak."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

from tests.runs import API

if TYPE_CHECKING:
    import httpx


async def make_secret(client: httpx.AsyncClient, name: str, value: str) -> dict[str, Any]:
    made = await client.post(f"{API}/secrets", json={"name": name, "value": value})
    assert made.status_code == 201, made.text
    found: dict[str, Any] = made.json()
    return found


def leaked_forms(value: str) -> list[str]:
    """The value as it is, base64-encoded (plain and URL-safe, padded or not) and URL-encoded."""
    raw = value.encode()
    encoded = [base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()]
    return [value, quote(value, safe=""), quote_plus(value), *encoded] + [
        form.rstrip("=") for form in encoded
    ]


def assert_absent(text: str, value: str, where: str) -> None:
    for form in leaked_forms(value):
        assert form not in text, f"{where} holds the secret as {form!r}"
