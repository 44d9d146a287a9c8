"""`Worker`: polls its queues, runs the registered function of each task (up to
`concurrency` at once), keeps the leases alive, and completes or fails each task. On
SIGINT or SIGTERM it stops polling, lets the tasks in hand finish within `grace_seconds`,
and gives back (fails as retryable) the ones that do not."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import signal
import socket
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from towpath.worker.client import LeaseLost, QueueClient, Task

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger("towpath.worker")
STOPPED = "the worker stopped before the task finished"


@dataclass(frozen=True)
class TaskContext:
    """What a task function may want besides its input; `idempotency_key` is the same for
    every delivery of one attempt, so a side effect can be made once."""

    task_id: str
    queue: str
    run_id: str
    step_id: str
    attempt: int
    idempotency_key: str


class Worker:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        worker_id: str | None = None,
        *,
        concurrency: int = 4,
        lease_seconds: int = 60,
        wait_seconds: float = 20,
        grace_seconds: float = 30,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url
        self.worker_id = worker_id or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.wait_seconds = wait_seconds
        self.grace_seconds = grace_seconds
        self._headers = {"Authorization": f"Bearer {api_key}"}
        # Another way to reach the server than the network (an ASGI app, in tests).
        self._transport = transport
        self._functions: dict[str, Callable[..., Any]] = {}
        self._stopping = asyncio.Event()
        self._in_hand: set[asyncio.Task[None]] = set()

    def task(self, queue: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register the function that does the tasks of `queue`: it takes the input (and,
        if it has a second parameter, a `TaskContext`) and returns the output."""

        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            if queue in self._functions:
                raise ValueError(f"queue {queue!r} already has a function")
            self._functions[queue] = function
            return function

        return register

    def run(self) -> None:
        asyncio.run(self.arun())

    def stop(self) -> None:
        """Stop polling; tasks in hand get `grace_seconds` to finish."""
        self._stopping.set()

    async def arun(self) -> None:
        if not self._functions:
            raise RuntimeError("no task function is registered: use @worker.task(queue)")
        self._stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            # Only the main thread may handle signals; elsewhere `stop()` is the way.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, self.stop)
        slots = asyncio.Semaphore(self.concurrency)
        async with httpx.AsyncClient(
            base_url=self.base_url, headers=self._headers, transport=self._transport
        ) as http:
            client = QueueClient(http)
            pollers = [
                asyncio.create_task(self._poll(client, queue, slots)) for queue in self._functions
            ]
            await self._stopping.wait()
            for poller in pollers:
                poller.cancel()
            await asyncio.gather(*pollers, return_exceptions=True)
            await self._drain()

    async def _poll(self, client: QueueClient, queue: str, slots: asyncio.Semaphore) -> None:
        while not self._stopping.is_set():
            await slots.acquire()
            taken = 1
            while not slots.locked():
                await slots.acquire()
                taken += 1
            try:
                tasks = await client.poll(
                    queue,
                    self.worker_id,
                    max_tasks=taken,
                    wait_seconds=self.wait_seconds,
                    lease_seconds=self.lease_seconds,
                )
            except httpx.HTTPError as exc:
                log.warning("polling %s failed: %s", queue, exc)
                tasks = []
                await asyncio.sleep(1)
            except BaseException:
                for _ in range(taken):
                    slots.release()
                raise
            for _ in range(taken - len(tasks)):
                slots.release()
            for task in tasks:
                handler = asyncio.create_task(self._handle(client, task, slots))
                self._in_hand.add(handler)
                handler.add_done_callback(self._in_hand.discard)

    async def _drain(self) -> None:
        if not self._in_hand:
            return
        _, late = await asyncio.wait(set(self._in_hand), timeout=self.grace_seconds)
        for handler in late:
            handler.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    async def _handle(self, client: QueueClient, task: Task, slots: asyncio.Semaphore) -> None:
        keeping = asyncio.create_task(self._keep_lease(client, task))
        try:
            try:
                output = await self._call(task)
            except asyncio.CancelledError:
                await _give_back(client, task, STOPPED)
                raise
            except Exception as exc:  # noqa: BLE001 - any failure of user code fails the task
                log.info("task %s failed: %s", task.task_id, exc)
                await _give_back(client, task, str(exc) or type(exc).__name__)
                return
            try:
                await client.complete(task, output)
            except LeaseLost as lost:
                log.warning("%s", lost)
            except httpx.HTTPStatusError as exc:
                # An output the server cannot store (not JSON): the task fails for good.
                await _give_back(client, task, f"the output was refused: {exc}", retryable=False)
        finally:
            keeping.cancel()
            slots.release()

    async def _call(self, task: Task) -> Any:
        function = self._functions[task.queue]
        context = TaskContext(
            task.task_id, task.queue, task.run_id, task.step_id, task.attempt, task.idempotency_key
        )
        arguments = (task.input, context) if _wants_context(function) else (task.input,)
        if inspect.iscoroutinefunction(function):
            return await function(*arguments)
        return await asyncio.to_thread(function, *arguments)

    async def _keep_lease(self, client: QueueClient, task: Task) -> None:
        every = max(1.0, self.lease_seconds / 3)
        while True:
            await asyncio.sleep(every)
            try:
                await client.heartbeat(task, self.lease_seconds)
            except LeaseLost as lost:
                log.warning("%s", lost)
                return
            except httpx.HTTPError as exc:
                log.warning("heartbeat of task %s failed: %s", task.task_id, exc)


async def _give_back(
    client: QueueClient, task: Task, error: str, *, retryable: bool = True
) -> None:
    # Shielded: a worker shutting down still tells the server, so the task is retried soon.
    with contextlib.suppress(LeaseLost, httpx.HTTPError):
        await asyncio.shield(client.fail(task, error[:10_000], retryable=retryable))


def _wants_context(function: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return len(parameters) >= 2
