"""The test broker is a Kafka a client can rely on: what is produced is consumed in a
consumer group, and a committed offset is where the group's next member starts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

if TYPE_CHECKING:
    from tests.kafka.conftest import Broker


def _consumer(broker: Broker, topic: str, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=broker.bootstrap_servers,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        # The broker holds a group's first join for part of the session timeout.
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
    )


async def test_a_group_resumes_after_its_committed_offset(broker: Broker) -> None:
    topic, group = broker.topic("smoke"), broker.topic("group")
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"first", key=b"a")
        await producer.send_and_wait(topic, b"second", key=b"a")
    finally:
        await producer.stop()

    consumer = _consumer(broker, topic, group)
    await consumer.start()
    try:
        first = await consumer.getone()
        await consumer.commit()
    finally:
        await consumer.stop()
    assert first.value == b"first"

    successor = _consumer(broker, topic, group)
    await successor.start()
    try:
        second = await successor.getone()
    finally:
        await successor.stop()
    assert second.value == b"second"
