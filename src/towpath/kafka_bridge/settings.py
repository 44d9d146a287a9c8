"""The bridge's settings, from its command line or, for each option, the environment variable
TOWPATH_BRIDGE_<OPTION> (`--api-key` is TOWPATH_BRIDGE_API_KEY)."""

from __future__ import annotations

import argparse
import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

ENV_PREFIX = "TOWPATH_BRIDGE_"


@dataclass(frozen=True)
class BridgeSettings:
    url: str
    api_key: str
    queue: str
    bootstrap_servers: str
    tasks_topic: str
    results_topic: str
    group_id: str
    worker_id: str
    max_in_flight: int = 100
    lease_seconds: int = 60
    wait_seconds: float = 20.0
    # How long the results consumer may be silent before its group gives its partitions away.
    session_timeout_ms: int = 10_000

    @property
    def heartbeat_seconds(self) -> float:
        """Leases are renewed three times per lease, so one lost heartbeat costs nothing."""
        return self.lease_seconds / 3


def _parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m towpath.kafka_bridge",
        description="Leases a towpath queue's tasks, publishes them to a Kafka topic, and "
        "completes or fails them from the results an executor publishes to another.",
    )

    def option(name: str, help_text: str, kind: type = str, default: object = None) -> None:
        env = ENV_PREFIX + name.upper().replace("-", "_")
        found = environ.get(env, default)
        parser.add_argument(
            f"--{name}",
            type=kind,
            default=None if found is None else kind(found),
            required=found is None,
            help=f"{help_text} (env {env})",
        )

    option("url", "towpath's base URL, e.g. http://towpath:8000")
    option("api-key", "an API key of the workspace with the operator role")
    option("queue", "the queue to take tasks from")
    option("bootstrap-servers", "Kafka bootstrap servers, host:port[,host:port]")
    option("tasks-topic", "the topic tasks are published to")
    option("results-topic", "the topic executors publish results to")
    option("group-id", "the results consumer's group", default="towpath-kafka-bridge")
    option("worker-id", "the name towpath shows for this bridge", default=socket.gethostname())
    option("max-in-flight", "tasks published and not yet answered, at most", int, 100)
    option("lease-seconds", "each lease's length; renewed every third of it", int, 60)
    option("wait-seconds", "how long one poll waits for a task", float, 20.0)
    option("session-timeout-ms", "the results consumer's Kafka session timeout", int, 10_000)
    return parser


def parse_settings(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> BridgeSettings:
    parser = _parser(os.environ if environ is None else environ)
    found = parser.parse_args(argv)
    settings = BridgeSettings(**vars(found))
    if not 1 <= settings.max_in_flight <= 10_000:
        parser.error("--max-in-flight must be between 1 and 10000")
    if not 5 <= settings.lease_seconds <= 3600:
        parser.error("--lease-seconds must be between 5 and 3600")
    if not 0 <= settings.wait_seconds <= 30:
        parser.error("--wait-seconds must be between 0 and 30")
    return settings
