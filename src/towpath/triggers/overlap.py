"""What a tick does when a run of its schedule is still going: each policy a small rule."""

from __future__ import annotations

from enum import StrEnum


class Overlap(StrEnum):
    SKIP = "skip"
    BUFFER_ONE = "buffer_one"
    BUFFER_ALL = "buffer_all"
    CANCEL_OTHER = "cancel_other"
    ALLOW_ALL = "allow_all"


class TickAction(StrEnum):
    START = "start"
    SKIP = "skip"
    # Wait for the runs in flight to end, then start in tick order.
    BUFFER = "buffer"
    # Cancel the runs in flight and start.
    REPLACE = "replace"


def on_tick(policy: Overlap, running: bool, buffered: int) -> TickAction:
    """A tick waiting in the buffer counts as busy too: ticks start in their order."""
    if not running and buffered == 0:
        return TickAction.START
    match policy:
        case Overlap.ALLOW_ALL:
            return TickAction.START
        case Overlap.CANCEL_OTHER:
            return TickAction.REPLACE
        case Overlap.BUFFER_ALL:
            return TickAction.BUFFER
        case Overlap.BUFFER_ONE:
            return TickAction.BUFFER if buffered == 0 else TickAction.SKIP
        case _:
            return TickAction.SKIP
