"""WebSocket frames as a server writes them: the same bytes for every client."""

from __future__ import annotations


def text_frame(text: str) -> bytes:
    """A final, unmasked text frame, as a server sends it (RFC 6455, section 5.2)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        head = bytes((0x81, size))
    elif size < 1 << 16:
        head = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return head + payload
