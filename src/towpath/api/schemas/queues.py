"""Request and response bodies of the queues workers take `task` steps' tasks from."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, JsonValue

from towpath.api.schemas.strict import RequestModel, Whole

LeaseToken = Annotated[
    str, Field(min_length=1, max_length=200, description="The `lease_token` the poll gave")
]


class PollRequest(RequestModel):
    worker_id: str = Field(min_length=1, max_length=200, description="Names the polling worker")
    max_tasks: Whole = Field(default=1, ge=1, le=100, description="Tasks to lease at most")
    wait_seconds: float = Field(
        default=20, ge=0, le=30, description="With no task ready, wait this long for one"
    )
    lease_seconds: Whole = Field(
        default=60, ge=5, le=3600, description="The lease ends this long after the poll"
    )


class LeasedTask(BaseModel):
    task_id: str
    queue: str
    run_id: str
    step_id: str
    attempt: int
    input: JsonValue
    idempotency_key: str
    lease_token: str
    lease_expires_at: datetime


class PollResponse(BaseModel):
    tasks: list[LeasedTask]


class HeartbeatRequest(RequestModel):
    lease_token: LeaseToken
    extend_seconds: Whole = Field(
        default=60, ge=5, le=3600, description="The lease now ends this long from now"
    )


class HeartbeatResponse(BaseModel):
    task_id: str
    status: str
    lease_expires_at: datetime | None


class CompleteRequest(RequestModel):
    lease_token: LeaseToken
    output: JsonValue = Field(default=None, description="The step's output")


class FailRequest(RequestModel):
    lease_token: LeaseToken
    error: str = Field(min_length=1, max_length=10_000, description="What went wrong")
    retryable: bool = Field(default=True, description="Try again as the step's retry policy allows")


class TaskAnswerResponse(BaseModel):
    task_id: str
    status: str
    run_id: str
    step_id: str
    run_status: str
    step_status: str


class QueueResponse(BaseModel):
    name: str
    ready: int = Field(description="Tasks waiting for a worker: the queue's depth")
    leased: int = Field(description="Tasks a worker holds a live lease on")
    oldest_ready_age_seconds: float | None
    workers: int = Field(description="Workers that polled within the last 60 seconds")
    last_poll_at: datetime | None
