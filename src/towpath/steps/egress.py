"""Where steps may connect: public addresses, and private ones only when allowed.

The check is made on the addresses a host name resolves to, at the moment of connecting,
and the connection goes to the very address checked: a redirect to a private address is
refused when its connection is made, and a name that resolves to a public address for
the check and a private one a moment later (DNS rebinding) cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpcore

if TYPE_CHECKING:
    from collections.abc import Iterable

    from httpcore import AsyncNetworkStream

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class DestinationRefused(Exception):
    """A step tried to reach an address it may not: no retry will change that."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        article = "an" if reason[0] in "aeiou" else "a"
        super().__init__(
            f"refusing to connect to {host} ({address}): {article} {reason} address; name it in"
            " TOWPATH_STEP_ALLOWED_HOSTS to allow it"
        )


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress) -> str | None:
    """Why a step may not reach this address unless allowed, or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_v4(address)
        if inner is not None:
            return refusal(inner)
    for reason, matched in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("unspecified", address.is_unspecified),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if matched:
            return reason
    return None if address.is_global else "non-public"


def _split_port(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):  # [::1]:8080
        host, _, rest = entry[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else None
    host, sep, port = entry.rpartition(":")
    if sep and port.isascii() and port.isdigit() and ":" not in host:
        return host, int(port)
    return entry, None


@dataclass(frozen=True)
class EgressPolicy:
    """Private destinations allowed anyway: networks and host names, each on any port or one."""

    networks: tuple[tuple[IPNetwork, int | None], ...] = ()
    hosts: frozenset[tuple[str, int | None]] = frozenset()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> EgressPolicy:
        """From entries such as `10.0.0.0/8`, `192.168.1.5:8080`, `[::1]:9000`, `db.internal`."""
        networks: list[tuple[IPNetwork, int | None]] = []
        hosts: set[tuple[str, int | None]] = set()
        for raw in entries:
            entry = raw.strip()
            try:
                networks.append((ipaddress.ip_network(entry, strict=False), None))
                continue
            except ValueError:
                pass
            host, port = _split_port(entry)
            try:
                networks.append((ipaddress.ip_network(host, strict=False), port))
            except ValueError:
                hosts.add((host.lower().rstrip("."), port))
        return cls(tuple(networks), frozenset(hosts))

    def allows(self, host: str, address: IPAddress, port: int) -> bool:
        if refusal(address) is None:
            return True
        name = host.lower().rstrip(".")
        if (name, None) in self.hosts or (name, port) in self.hosts:
            return True
        return any(
            address in network and allowed in (None, port) for network, allowed in self.networks
        )


async def _resolve(host: str, port: int, seconds: float | None) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(seconds):
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError as exc:
        raise httpcore.ConnectTimeout(f"resolving {host} took too long") from exc
    except OSError as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    # The scope of a link-local IPv6 address (`%eth0`) is not part of the address.
    return [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in found]


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses the policy allows."""

    def __init__(self, policy: EgressPolicy, inner: httpcore.AsyncNetworkBackend | None = None):
        self.policy = policy
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        addresses = await _resolve(host, port, timeout)
        allowed = [a for a in addresses if self.policy.allows(host, a, port)]
        if not allowed:
            first = addresses[0]
            raise DestinationRefused(host, str(first), refusal(first) or "forbidden")
        error: Exception | None = None
        for address in allowed:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None  # noqa: S101 - `allowed` is never empty here
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> AsyncNetworkStream:
        raise DestinationRefused(path, path, "unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
