"""An executor fleet as the bridge meets it: reads the tasks topic, publishes results."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.waiting import eventually

if TYPE_CHECKING:
    from tests.kafka.conftest import Broker


async def create_topics(broker: Broker, *names: str) -> None:
    """One partition each, so a test reads its messages in the order they were sent."""
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1) for name in names])
    finally:
        await admin.close()


class Executor:
    """Reads every task published to `tasks_topic` and answers on `results_topic`."""

    def __init__(self, broker: Broker, tasks_topic: str, results_topic: str) -> None:
        self.results_topic = results_topic
        self.tasks: list[dict[str, Any]] = []
        self._consumer = AIOKafkaConsumer(
            tasks_topic, bootstrap_servers=broker.bootstrap_servers, auto_offset_reset="earliest"
        )
        self._producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)

    async def __aenter__(self) -> Executor:
        await self._producer.start()
        await self._consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()
        await self._producer.stop()

    async def received(self, count: int, seconds: float = 30.0) -> list[dict[str, Any]]:
        """The first `count` tasks, once that many were published."""

        async def enough() -> bool:
            found = await self._consumer.getmany(timeout_ms=100)
            for records in found.values():
                self.tasks.extend(json.loads(record.value) for record in records)
            return len(self.tasks) >= count

        await eventually(enough, seconds, f"{count} tasks on the tasks topic")
        return self.tasks[:count]

    async def complete(self, task: dict[str, Any], output: Any) -> None:
        await self.publish(task, status="completed", output=output)

    async def fail(self, task: dict[str, Any], error: str, *, retryable: bool) -> None:
        await self.publish(task, status="failed", error=error, retryable=retryable)

    async def publish(self, task: dict[str, Any], **result: Any) -> None:
        value = {"task_id": task["task_id"], "lease_token": task["lease_token"], **result}
        await self.send(json.dumps(value).encode(), key=task["task_id"].encode())

    async def send(self, value: bytes, key: bytes | None = None) -> None:
        await self._producer.send_and_wait(self.results_topic, value=value, key=key)
