"""The bridge's three loops: lease tasks and publish them, renew the leases of tasks out on
Kafka, and turn the results topic's messages into answers to towpath."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from towpath.kafka_bridge.leases import HeldLeases
from towpath.kafka_bridge.messages import MalformedResult, TaskResult
from towpath.kafka_bridge.queue_client import Answer, QueueClient, TowpathUnavailable

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine

    from aiokafka import ConsumerRecord

    from towpath.kafka_bridge.messages import LeasedTask
    from towpath.kafka_bridge.settings import BridgeSettings

log = logging.getLogger("towpath.kafka_bridge")
T = TypeVar("T")

# Waits between tries while towpath cannot answer: doubling from the first to the last.
FIRST_RETRY_SECONDS = 0.2
LAST_RETRY_SECONDS = 5.0


class KafkaBridge:
    """Runs until `stop()`; then stops leasing, drops the result it was answering (its
    offset stays uncommitted, so it is read again) and closes its clients. Tasks still out
    return to the queue when their leases expire, and are published again."""

    def __init__(self, settings: BridgeSettings) -> None:
        self.settings = settings
        self.leases = HeldLeases(settings.max_in_flight)
        self.published = 0
        self.accepted = 0
        self.refused = 0
        # Calls towpath did not answer, each tried again later.
        self.retries = 0
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        async with self._clients() as (queue, producer, consumer):
            loops = [
                asyncio.create_task(self._lease(queue, producer)),
                asyncio.create_task(self._renew(queue)),
                asyncio.create_task(self._answer(queue, consumer)),
            ]
            stopping = asyncio.create_task(self._stopping.wait())
            await asyncio.wait([*loops, stopping], return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            for loop in loops:
                loop.cancel()
            for loop in loops:
                # A loop ends on its own only by an error, which is the bridge's to raise.
                with contextlib.suppress(asyncio.CancelledError):
                    await loop

    @contextlib.asynccontextmanager
    async def _clients(
        self,
    ) -> AsyncIterator[tuple[QueueClient, AIOKafkaProducer, AIOKafkaConsumer]]:
        settings = self.settings
        headers = {"Authorization": f"Bearer {settings.api_key}"}
        producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
        consumer = AIOKafkaConsumer(
            settings.results_topic,
            bootstrap_servers=settings.bootstrap_servers,
            group_id=settings.group_id,
            # An offset is committed only once towpath answered the result.
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=settings.session_timeout_ms,
            heartbeat_interval_ms=settings.session_timeout_ms // 4,
        )
        async with httpx.AsyncClient(base_url=settings.url, headers=headers, timeout=10.0) as http:
            await producer.start()
            try:
                await consumer.start()
                try:
                    yield QueueClient(http, settings.queue, settings.worker_id), producer, consumer
                finally:
                    await consumer.stop()
            finally:
                await producer.stop()

    async def _lease(self, queue: QueueClient, producer: AIOKafkaProducer) -> None:
        settings = self.settings
        while True:
            # towpath leases at most 100 tasks a poll.
            room = min(await self.leases.room(), 100)
            tasks = await self._until_answered(
                functools.partial(queue.poll, room, settings.wait_seconds, settings.lease_seconds)
            )
            for task in tasks:
                await self._publish(producer, task)

    async def _publish(self, producer: AIOKafkaProducer, task: LeasedTask) -> None:
        self.leases.hold(task)
        key, value = task.message()
        try:
            await producer.send_and_wait(self.settings.tasks_topic, value=value, key=key)
        except KafkaError as lost:
            # Not renewed, the lease expires and the task is leased and published again.
            log.error("task %s not published, left to its lease: %r", task.task_id, lost)
            await self.leases.release(task.task_id, task.lease_token)
            return
        self.published += 1
        log.info("published task %s (attempt %d)", task.task_id, task.attempt)

    async def _renew(self, queue: QueueClient) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_seconds)
            await self.leases.renew(queue, self.settings.lease_seconds)

    async def _answer(self, queue: QueueClient, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=1000)
            for partition, records in batches.items():
                for record in records:
                    await self._answer_one(queue, record)
                    try:
                        await consumer.commit({partition: record.offset + 1})
                    except (CommitFailedError, IllegalStateError) as moved:
                        # The group gave the partition to another member, which reads this
                        # result again; towpath refuses its second answer as stale.
                        log.warning("offset of %s not committed: %r", partition, moved)
                        break

    async def _answer_one(self, queue: QueueClient, record: ConsumerRecord[Any, Any]) -> None:
        try:
            result = TaskResult.decode(record.value)
        except MalformedResult as malformed:
            log.warning(
                "skipped result at %s offset %d: %s", record.topic, record.offset, malformed
            )
            return
        answer = await self._until_answered(functools.partial(queue.answer, result))
        if answer is Answer.ACCEPTED:
            self.accepted += 1
        else:
            self.refused += 1
        await self.leases.release(result.task_id, result.lease_token)

    async def _until_answered(self, call: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Calls towpath until it answers, waiting longer after each try it could not."""
        delay = FIRST_RETRY_SECONDS
        while True:
            try:
                return await call()
            except TowpathUnavailable as unavailable:
                self.retries += 1
                log.warning("towpath unavailable, trying again in %.1f s: %s", delay, unavailable)
            await asyncio.sleep(delay)
            delay = min(delay * 2, LAST_RETRY_SECONDS)
