"""A typed client of a towpath server's API: `Client` (sync), `AsyncClient` (async and
live streams), the calls of every operation (`calls`) and the models they answer."""

from towpath.client import calls, models
from towpath.client.call import Call
from towpath.client.clients import AsyncClient, Client
from towpath.client.errors import TowpathError
from towpath.client.messages import (
    Event,
    InboxChange,
    InboxRemoval,
    InboxSnapshot,
    Resync,
    Snapshot,
)
from towpath.client.paging import Page
from towpath.client.streams import Reconnecting

__all__ = [
    "AsyncClient",
    "Call",
    "Client",
    "Event",
    "InboxChange",
    "InboxRemoval",
    "InboxSnapshot",
    "Page",
    "Reconnecting",
    "Resync",
    "Snapshot",
    "TowpathError",
    "calls",
    "models",
]
