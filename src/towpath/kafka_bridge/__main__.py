"""`python -m towpath.kafka_bridge`: runs the bridge until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from towpath.kafka_bridge.bridge import KafkaBridge
from towpath.kafka_bridge.queue_client import BridgeMisconfigured
from towpath.kafka_bridge.settings import parse_settings


async def serve(bridge: KafkaBridge) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, bridge.stop)
    await bridge.run()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # aiokafka tells of every group rebalance at INFO.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    settings = parse_settings()
    try:
        asyncio.run(serve(KafkaBridge(settings)))
    except BridgeMisconfigured as refused:
        logging.getLogger("towpath.kafka_bridge").error("towpath refused the bridge: %s", refused)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
