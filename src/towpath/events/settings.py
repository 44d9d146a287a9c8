"""Settings of the live event streams, mixed into `towpath.config.Settings`."""

from __future__ import annotations

from pydantic import BaseModel, Field


class StreamSettings(BaseModel):
    # An idle stream is sent a ping this often (a `{"type": "ping"}` message, or an SSE
    # comment); on PostgreSQL the notification connection is checked as often.
    stream_heartbeat_seconds: float = Field(default=15.0, gt=0)
    # Events one subscriber may have waiting before it is told to resync (a run stream)
    # or closed (a multi-run stream).
    stream_queue_size: int = Field(default=1000, ge=1)
    # A client that takes no data for this long while a message waits is dropped.
    stream_send_timeout_seconds: float = Field(default=10.0, gt=0)
    # How long an SSE client waits before reconnecting (the stream's `retry:` field).
    stream_retry_seconds: float = Field(default=3.0, gt=0)
    # A stream token (for a browser's socket or EventSource) opens streams this long.
    stream_token_seconds: float = Field(default=60.0, gt=0, le=3600)
