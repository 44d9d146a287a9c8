"""The HTTP client steps share: aiohttp, connecting only where the egress policy allows.

aiohttp rather than httpx: measured here with 200 calls in flight to one local server,
httpx's pool manages about 300-1,100 calls/s (it rescans every waiting request and every
idle connection on each change) where aiohttp's manages about 8,500; one call costs about
0.16 ms of CPU against httpx's 0.75-1.0 (`bench/README.md`).
"""

from __future__ import annotations

import functools
import ipaddress
import ssl
from typing import TYPE_CHECKING, Any

import aiohttp
import certifi

from towpath import __version__
from towpath.steps.egress import DestinationRefused, refusal

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aiohttp.abc import ResolveResult
    from aiohttp.tracing import Trace

    from towpath.steps.egress import EgressPolicy

# Each hop of a redirect is a new connection, checked like the first one.
MAX_REDIRECTS = 10
CONNECTIONS = 100
# Under the 5 s after which uvicorn, Node.js, Apache and Hypercorn close an idle
# connection: a call must not be sent on one the server is closing, where a POST is lost
# and cannot be sent again.
KEEPALIVE_SECONDS = 4.0
USER_AGENT = f"towpath/{__version__}"


class GuardedConnector(aiohttp.TCPConnector):
    """Connects only to addresses the policy allows, checked on the resolved addresses
    (a literal IP included) at the moment of connecting; the connection goes to an address
    that was checked, so a name re-pointed at a private address (DNS rebinding) or a
    redirect to one is refused."""

    def __init__(self, policy: EgressPolicy, **options: Any) -> None:
        super().__init__(**options)
        self.policy = policy

    async def _resolve_host(
        self, host: str, port: int, traces: Sequence[Trace] | None = None
    ) -> list[ResolveResult]:
        found = await super()._resolve_host(host, port, traces=traces)
        allowed = [r for r in found if self.policy.allows(host, _address(r["host"]), port)]
        if not allowed:
            first = _address(found[0]["host"])
            raise DestinationRefused(host, str(first), refusal(first) or "forbidden")
        return allowed


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    # The scope of a link-local IPv6 address (`%eth0`) is not part of the address.
    return ipaddress.ip_address(text.partition("%")[0])


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The certificates httpx trusts (certifi's), loaded once a process: reading them is the
    costly part of a client (about 70 ms), and every session of the process shares them."""
    return ssl.create_default_context(cafile=certifi.where())


def step_session(policy: EgressPolicy, tls: ssl.SSLContext | None = None) -> aiohttp.ClientSession:
    """The session a process's steps share. It keeps no cookies: steps of different runs
    and workspaces call the same hosts, and one's cookie must never ride on another's call.
    Proxy settings in the environment are not read: the guard checks the address called."""
    connector = GuardedConnector(
        policy,
        limit=CONNECTIONS,
        keepalive_timeout=KEEPALIVE_SECONDS,
        ssl=tls or tls_context(),
    )
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        headers={"User-Agent": USER_AGENT},
        trust_env=False,
    )
