"""The serving process: the application under uvicorn, and only what that needs.

`towpath serve` prepares (migrations, the first admin key), then becomes this process, so
a server carries none of the command line's modules nor what its preparations left in
memory. Settings come from the environment, as ever."""

from __future__ import annotations

import gc

import uvicorn

from towpath.api.http_protocol import TurnWritingHttpProtocol
from towpath.api.websocket_protocol import CoalescingWebSocketProtocol
from towpath.app import create_app
from towpath.config import Settings, load_settings
from towpath.observability.logs import logging_config

# Generation 0 every 20,000 allocations (not 700), generation 2 after 100 collections of
# generation 1 (not 10).
GC_THRESHOLDS = (20_000, 10, 100)


def tune_collector() -> None:
    """Called once a long-lived process has started: what start-up made lives as long as
    the process, so the collector need not walk it again at every full collection.

    Reference counting frees nearly everything; the collector is for cycles. Young ones
    are still collected often, but a full pass walks every socket's objects and holds the
    event loop for 100 ms or more at a thousand clients: it runs rarely."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def serve(settings: Settings) -> None:
    uvicorn.run(
        create_app(settings, started=tune_collector),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=logging_config(settings.log_level, settings.log_format),
        # X-Forwarded-For is the application's to believe, from TOWPATH_TRUSTED_PROXIES
        # only: uvicorn's own default trusts any process on this machine.
        proxy_headers=False,
        http=TurnWritingHttpProtocol,
        timeout_keep_alive=settings.keep_alive_seconds,
        ws=CoalescingWebSocketProtocol,
        # Live events are small JSON sent to many clients at once: compressing them for
        # each client separately costs more than it saves.
        ws_per_message_deflate=False,
        # In-flight requests get the same grace as steps in flight; then the worker hands
        # back what it still holds.
        timeout_graceful_shutdown=max(1, int(settings.shutdown_grace_seconds)),
    )


if __name__ == "__main__":
    serve(load_settings())
