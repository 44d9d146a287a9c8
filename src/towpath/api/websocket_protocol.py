"""The WebSocket protocol `towpath serve` runs: uvicorn's, with frames sent together
written together.

A transition commits several events at once, and a stream sends them one after another
without waiting in between. uvicorn writes each frame to the socket as it is sent: one
system call per frame per client, which at a thousand clients watching one run is most
of what fanning an event out costs. Here the frames a stream sends within one turn of
the event loop leave in one write, at the end of that turn; a close, or a client that
reads too slowly, goes through uvicorn's own path after what is pending.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

if TYPE_CHECKING:
    from uvicorn._types import ASGISendEvent


class CoalescingWebSocketProtocol(WebSocketsSansIOProtocol):
    _flush_due = False

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
            if not self._flush_due:
                self._flush_due = True
                self.loop.call_soon(self._flush)
            return
        # Anything else writes what is pending first: uvicorn's send takes every frame
        # the connection holds, in order.
        await super().send(message)

    def _flush(self) -> None:
        self._flush_due = False
        pending = self.conn.data_to_send()
        if pending and not self.transport.is_closing():
            self.transport.write(b"".join(pending))
