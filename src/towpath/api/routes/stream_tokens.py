"""Stream tokens: a minute's ticket to open live streams from a browser."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from towpath.api.deps import Viewer
from towpath.auth.stream_tokens import StreamTokens  # noqa: TC001 - read from app.state

router = APIRouter(tags=["streams"])


class StreamTokenResponse(BaseModel):
    token: str = Field(description="Give it as `?token=` (or the `towpath.bearer` subprotocol).")
    expires_at: datetime = Field(description="Streams must be opened before this.")


@router.post("/stream-tokens", status_code=201)
async def create_stream_token(request: Request, caller: Viewer) -> StreamTokenResponse:
    """A token that opens WebSocket and Server-Sent Events streams for a minute, as the
    caller and no more: the stream then lasts as long as the caller's own credential."""
    tokens: StreamTokens = request.app.state.stream_tokens
    issued = tokens.issue(caller)
    return StreamTokenResponse(token=issued.token, expires_at=issued.expires_at)
