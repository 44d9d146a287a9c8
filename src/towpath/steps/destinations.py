"""Whether the egress policy would refuse a URL, asked before anything connects to it
(when an agent is registered), so a refused address is reported at once, not at run time."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import TYPE_CHECKING

from yarl import URL

from towpath.steps.egress import refusal

if TYPE_CHECKING:
    from towpath.steps.egress import EgressPolicy, IPAddress

# A name that does not resolve quickly is let through: it is checked again on every call.
RESOLVE_SECONDS = 2.0


async def _addresses(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_SECONDS):
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (TimeoutError, OSError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in found]


async def destination_refusal(policy: EgressPolicy, url: str) -> str | None:
    """Why the guard would refuse to connect to this http(s) URL, or None."""
    target = URL(url)
    host = target.host or ""
    port = target.port or (443 if target.scheme == "https" else 80)
    try:
        addresses = await _addresses(host.strip("[]"), port)
    except UnicodeError:
        # A label over 63 characters, say: no resolver can even be asked for it.
        return f"{host[:100]} is not a host name that can be resolved"
    for address in addresses:
        if not policy.allows(host, address, port):
            reason = refusal(address) or "forbidden"
            return (
                f"{host} ({address}) is a {reason} address the egress policy refuses;"
                " name it in TOWPATH_STEP_ALLOWED_HOSTS to allow it"
            )
    return None
