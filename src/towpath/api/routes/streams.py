"""Live run events: WebSockets under /ws, Server-Sent Events under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

# Mounted at the root: /ws/...
socket_router = APIRouter(tags=["streams"])
# Mounted under /api/v1.
api_router = APIRouter(tags=["streams"])
