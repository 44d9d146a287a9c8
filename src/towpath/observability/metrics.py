"""Prometheus metrics of one process: HTTP latency, runs and steps, the queue, sockets.

Counters and histograms count what this process saw (its HTTP requests, the events its
transitions committed); gauges of unfinished runs and steps and of the queue are read
from the database at scrape time, so every process reports the same totals for them.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from towpath.domain.states import EventType, RunStatus, StepStatus

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from datetime import datetime

E = EventType
_STEP_ENDS: dict[str, str] = {
    E.STEP_COMPLETED: StepStatus.COMPLETED,
    E.STEP_FAILED: StepStatus.FAILED,
    E.STEP_RETRYING: StepStatus.RETRYING,
}
_STEP_STOPS: dict[str, str] = {
    E.STEP_CANCELLED: StepStatus.CANCELLED,
    E.STEP_SKIPPED: StepStatus.SKIPPED,
}
_RUN_ENDS: dict[str, str] = {
    E.RUN_COMPLETED: RunStatus.COMPLETED,
    E.RUN_FAILED: RunStatus.FAILED,
    E.RUN_CANCELLED: RunStatus.CANCELLED,
}
# Its work is over for now: it waits, or a timer parked it.
_STEP_PAUSES = (E.STEP_WAITING, E.STEP_QUEUED, E.STEP_DELAYED)
# Steps in flight remembered at once; the oldest are dropped past this.
_MAX_TRACKED = 100_000
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)

StepKey = tuple[str, str, int]
V = TypeVar("V")


class CommittedEvent(Protocol):
    """A run's event as the process's event bus hands it on, after its commit."""

    @property
    def run_id(self) -> str: ...
    @property
    def step_id(self) -> str | None: ...
    @property
    def event_type(self) -> str: ...
    @property
    def data(self) -> Mapping[str, Any]: ...
    @property
    def created_at(self) -> datetime: ...


class GaugeReading(Protocol):
    """The database's counts of unfinished work, read at scrape time by the caller."""

    @property
    def runs(self) -> Mapping[str, int]: ...
    @property
    def steps(self) -> Mapping[tuple[str, str], int]: ...
    @property
    def ready(self) -> int: ...
    @property
    def queues(self) -> Sequence[QueueReading]: ...


class QueueReading(Protocol):
    """One task queue's figures, as the queues API shows them."""

    @property
    def workspace_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def ready(self) -> int: ...
    @property
    def leased(self) -> int: ...
    @property
    def oldest_ready_age_seconds(self) -> float | None: ...
    @property
    def workers(self) -> int: ...


class AgentCheck(Protocol):
    """One health check of a registered agent."""

    @property
    def agent_id(self) -> str: ...
    @property
    def agent_name(self) -> str: ...
    @property
    def up(self) -> bool: ...
    @property
    def latency_ms(self) -> float: ...


class Metrics:
    def __init__(self) -> None:
        # A registry per app, not the global one: tests and workers make several.
        self.registry = CollectorRegistry()
        r = self.registry
        self.http_duration = Histogram(
            "towpath_http_request_duration_seconds",
            "HTTP request latency by route template, method and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.runs = Gauge("towpath_runs", "Unfinished runs by status", ["status"], registry=r)
        self.steps = Gauge(
            "towpath_steps", "Unfinished step runs by status and type", ["status", "step_type"],
            registry=r,
        )  # fmt: skip
        self.queue_depth = Gauge(
            "towpath_queue_depth", "Step runs ready to be claimed now", registry=r
        )
        queue_labels = ["workspace_id", "queue"]
        self.task_queue_ready = Gauge(
            "towpath_task_queue_ready", "Tasks of a queue waiting for a worker", queue_labels,
            registry=r,
        )  # fmt: skip
        self.task_queue_leased = Gauge(
            "towpath_task_queue_leased", "Tasks of a queue a worker holds a live lease on",
            queue_labels, registry=r,
        )  # fmt: skip
        self.task_queue_oldest = Gauge(
            "towpath_task_queue_oldest_ready_age_seconds",
            "Age of a queue's oldest task waiting for a worker", queue_labels, registry=r,
        )  # fmt: skip
        self.task_queue_workers = Gauge(
            "towpath_task_queue_workers", "Workers that polled a queue in the last 60 seconds",
            queue_labels, registry=r,
        )  # fmt: skip
        self.tasks_answered = Counter(
            "towpath_tasks_answered", "Queue tasks workers completed or failed, by outcome",
            ["outcome"], registry=r,
        )  # fmt: skip
        self.runs_finished = Counter(
            "towpath_runs_finished", "Runs that ended, by status", ["status"], registry=r
        )
        self.steps_finished = Counter(
            "towpath_steps_finished",
            "Step attempts and steps that ended, by status and type",
            ["status", "step_type"],
            registry=r,
        )
        self.step_duration = Histogram(
            "towpath_step_duration_seconds",
            "How long a step attempt ran, by type and how it ended",
            ["step_type", "status"],
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.lease_expiries = Counter(
            "towpath_lease_expiries", "Steps taken over after their worker's lease ran out",
            registry=r,
        )  # fmt: skip
        self.open_sockets = Gauge(
            "towpath_open_sockets", "Open WebSocket and SSE streams", ["kind"], registry=r
        )
        self.agent_up = Gauge(
            "towpath_agent_up", "1 when the agent's last health check answered 2xx, else 0",
            ["agent_id", "agent"], registry=r,
        )  # fmt: skip
        self.agent_latency = Gauge(
            "towpath_agent_health_latency_seconds", "How long the agent's last health check took",
            ["agent_id", "agent"], registry=r,
        )  # fmt: skip
        self.agent_checks = Counter(
            "towpath_agent_health_checks", "Agent health checks by outcome (up or down)",
            ["agent_id", "agent", "status"], registry=r,
        )  # fmt: skip
        self.circuit_open = Gauge(
            "towpath_circuit_open",
            "1 while calls to the destination (host:port) are refused (open) or tried one at a"
            " time (half_open); destinations whose circuit closed are dropped",
            ["destination", "state"],
            registry=r,
        )
        self.circuit_changes = Counter(
            "towpath_circuit_changes", "Destination circuits that changed state, by new state",
            ["state"], registry=r,
        )  # fmt: skip
        self.runs_pruned = Counter(
            "towpath_runs_pruned", "Finished runs deleted by a retention policy", registry=r
        )
        self._started: OrderedDict[StepKey, datetime] = OrderedDict()

    @contextmanager
    def socket_open(self, kind: str) -> Iterator[None]:
        """Counts a stream (`websocket` or `sse`) as open for the duration of the block."""
        gauge = self.open_sockets.labels(kind)
        gauge.inc()
        try:
            yield
        finally:
            gauge.dec()

    def on_event(self, event: CommittedEvent) -> None:
        """An EventBus listener: step timings, endings and lease expiries, as committed.
        Only a step at work is remembered (when it started): a step that waits for a
        person, an event or a timer costs this process nothing meanwhile."""
        data = event.data
        key = (event.run_id, event.step_id or "", int(data.get("item_index", -1)))
        found = data.get("step_type")
        step_type = found if isinstance(found, str) else "unknown"
        kind = event.event_type
        if kind == E.STEP_STARTED:
            _remember(self._started, key, event.created_at)
            if "reclaimed_from" in data:
                self.lease_expiries.inc()
        elif kind in _STEP_ENDS:
            status = _STEP_ENDS[kind]
            started = self._started.pop(key, None)
            if started is not None:
                seconds = (event.created_at - started).total_seconds()
                self.step_duration.labels(step_type, status).observe(max(seconds, 0.0))
            self.steps_finished.labels(status, step_type).inc()
        elif kind in _STEP_STOPS:
            self.steps_finished.labels(_STEP_STOPS[kind], step_type).inc()
            self._started.pop(key, None)
        elif kind in _STEP_PAUSES:
            self._started.pop(key, None)
        elif kind in _RUN_ENDS:
            self.runs_finished.labels(_RUN_ENDS[kind]).inc()
        elif kind in ("task.completed", "task.failed"):
            self.tasks_answered.labels(kind.removeprefix("task.")).inc()

    def agent_checked(self, check: AgentCheck) -> None:
        """An agent health check's result, handed in by whoever made it."""
        labels = (check.agent_id, check.agent_name)
        self.agent_up.labels(*labels).set(1 if check.up else 0)
        self.agent_latency.labels(*labels).set(check.latency_ms / 1000)
        self.agent_checks.labels(*labels, "up" if check.up else "down").inc()

    def circuit_changed(self, destination: str, state: str) -> None:
        """A step destination's circuit opened, went half-open or closed."""
        self.circuit_changes.labels(state).inc()
        for shown in ("open", "half_open"):
            with contextlib.suppress(KeyError):
                self.circuit_open.remove(destination, shown)
        if state != "closed":
            self.circuit_open.labels(destination, state).set(1)

    def set_gauges(self, reading: GaugeReading) -> None:
        self.runs.clear()
        for status, count in reading.runs.items():
            self.runs.labels(status).set(count)
        self.steps.clear()
        for (status, step_type), count in reading.steps.items():
            self.steps.labels(status, step_type).set(count)
        self.queue_depth.set(reading.ready)
        self._set_task_queues(reading.queues)

    def _set_task_queues(self, queues: Sequence[QueueReading]) -> None:
        gauges = (
            self.task_queue_ready,
            self.task_queue_leased,
            self.task_queue_oldest,
            self.task_queue_workers,
        )
        for gauge in gauges:
            gauge.clear()
        for queue in queues:
            labels = (queue.workspace_id, queue.name)
            self.task_queue_ready.labels(*labels).set(queue.ready)
            self.task_queue_leased.labels(*labels).set(queue.leased)
            self.task_queue_oldest.labels(*labels).set(queue.oldest_ready_age_seconds or 0)
            self.task_queue_workers.labels(*labels).set(queue.workers)

    def exposition(self, reading: GaugeReading) -> bytes:
        """The text a scrape gets: the gauges just read, then everything in this registry."""
        self.set_gauges(reading)
        return generate_latest(self.registry)


def _remember(found: OrderedDict[StepKey, V], key: StepKey, value: V) -> None:
    found[key] = value
    found.move_to_end(key)
    if len(found) > _MAX_TRACKED:
        found.popitem(last=False)
