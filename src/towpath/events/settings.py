"""Settings of the live event streams, mixed into `towpath.config.Settings`."""

from __future__ import annotations

from pydantic import BaseModel, Field


class StreamSettings(BaseModel):
    # A ping goes to every open stream this often; a peer that misses it is dropped.
    stream_heartbeat_seconds: float = Field(default=15.0, gt=0)
    # Events one subscriber may have waiting before it is told to resync.
    stream_queue_size: int = Field(default=1000, ge=1)
