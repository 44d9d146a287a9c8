"""uvicorn's HTTP protocol, with a response's writes sent together.

uvicorn writes a response's status line and headers as soon as the application starts
the response, then its body in a second write: two system calls and, with Nagle's
algorithm off, two packets for every small JSON answer. Here what a connection writes in
one turn of the event loop leaves in one write at its end; a response whose body takes
longer still starts at once, since the turn ends when the application waits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

if TYPE_CHECKING:
    import asyncio


class _TurnWrites:
    """A transport whose writes of one turn of the loop are joined into one."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self._loop = loop
        self._due: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._due:
            self._loop.call_soon(self.flush)
        self._due.append(data)

    def flush(self) -> None:
        if not self._due:
            return
        data = self._due[0] if len(self._due) == 1 else b"".join(self._due)
        self._due = []
        if not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.flush()
        self.transport.set_protocol(protocol)

    def get_write_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size() + sum(map(len, self._due))

    def __getattr__(self, name: str) -> Any:
        # is_closing, get_extra_info, pause_reading, resume_reading, abort: the transport's.
        return getattr(self.transport, name)


class TurnWritingHttpProtocol(HttpToolsProtocol):
    """HttpToolsProtocol writing through `_TurnWrites`; an upgraded connection's WebSocket
    protocol is given the transport itself."""

    _writes: _TurnWrites | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._writes = _TurnWrites(transport, self.loop)
        super().connection_made(self._writes)  # type: ignore[arg-type]

    def handle_websocket_upgrade(self) -> None:
        if self._writes is not None:
            self._writes.flush()
            self.transport = self._writes.transport
        super().handle_websocket_upgrade()
