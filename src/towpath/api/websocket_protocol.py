"""The WebSocket protocol `towpath serve` runs: uvicorn's, made for fanning one event out
to a thousand clients.

- Frames sent within one turn of the event loop leave in one write, at the end of that
  turn: uvicorn writes each frame as it is sent, a system call per frame per client.
- The ASGI extension `towpath.frames` takes frames the application encoded already (a
  server's frames are the same bytes for every client, so a live event is encoded once,
  not once per client) and writes them at once, after anything pending, waiting as
  uvicorn's own send does while the client reads too slowly. Its `write_now` takes
  such frames without waiting, or says it cannot (the client reads too slowly, or is
  gone), so the hub can send an event to a waiting stream without waking its task; what
  it took leaves at the end of the turn too, the events of one transaction in one write.

A close, or anything else, goes through uvicorn's own path after what is pending.

- A handshake whose request line or a header is longer than the websockets library
  reads (8 KiB) is answered (414 or 431) and closed at once: uvicorn leaves that answer
  unsent and the connection open, so such a client would wait for ever.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

if TYPE_CHECKING:
    from uvicorn._types import ASGISendEvent
    from websockets.http11 import Request

# scope["extensions"][FRAMES]["send"](data: bytes) writes encoded server frames;
# ["write_now"](data: bytes) -> bool writes them at once, or says it cannot.
FRAMES = "towpath.frames"


class CoalescingWebSocketProtocol(WebSocketsSansIOProtocol):
    _flush_due = False
    # Frames `write_now` took this turn, after what the connection holds.
    _frames_due: list[bytes] | None = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.handshake_exc is not None and not self.handshake_initiated:
            self._refuse_handshake()

    def _refuse_handshake(self) -> None:
        self.handshake_initiated = self.handshake_complete = self.close_sent = True
        # The library's answer, then its end-of-stream marker (an empty write).
        answer = b"".join(self.conn.data_to_send())
        if not self.transport.is_closing():
            self.transport.write(answer)
            self.transport.close()

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        # The application's task is created but has not run: it sees the extension.
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"][FRAMES] = {
                "send": self._send_frames,
                "write_now": self._write_frames_now,
            }

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        # The scope's extension names this protocol, and the protocol holds the scope: a
        # cycle only the collector would free, which `towpath serve` runs rarely. Broken
        # here, a closed connection's objects go at once; a stream still sending has its
        # own reference to the sender and finds the connection gone.
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"].pop(FRAMES, None)

    async def _send_frames(self, data: bytes) -> None:
        await self.writable.wait()
        if self.disconnected or self.close_sent or not self.handshake_complete:
            raise ClientDisconnected()
        pending = self._pending()
        self.transport.write(b"".join([*pending, data]) if pending else data)

    def _write_frames_now(self, data: bytes) -> bool:
        if (
            self.disconnected
            or self.close_sent
            or not self.handshake_complete
            or not self.writable.is_set()
            or self.transport.is_closing()
        ):
            return False
        if self._frames_due is None:
            self._frames_due = [data]
        else:
            self._frames_due.append(data)
        self._flush_soon()
        return True

    def _pending(self) -> list[bytes]:
        pending = self.conn.data_to_send()
        if self._frames_due:
            pending += self._frames_due
            self._frames_due = None
        return pending

    async def send(self, message: ASGISendEvent) -> None:
        if (
            message["type"] == "websocket.send"
            and self.handshake_complete
            and not self.close_sent
            and not self.disconnected
            and self.writable.is_set()
        ):
            text = message.get("text")
            if text is not None:
                self.conn.send_text(text.encode())
            else:
                self.conn.send_binary(message.get("bytes") or b"")
            self._flush_soon()
            return
        # Anything else writes what is pending first: the frames `write_now` took, then
        # (uvicorn's send takes them) every frame the connection holds, in order.
        due, self._frames_due = self._frames_due, None
        if due and not self.transport.is_closing():
            self.transport.write(b"".join(due))
        await super().send(message)

    def _flush_soon(self) -> None:
        """What is pending leaves at the end of this turn of the loop, in one write."""
        if not self._flush_due:
            self._flush_due = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_due = False
        pending = self._pending()
        if pending and not self.transport.is_closing():
            self.transport.write(b"".join(pending))
