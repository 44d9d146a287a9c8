"""Settings of the engine: what a process configures (mixed into `towpath.config.Settings`)
and what one worker runs with."""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass, field

from pydantic import Field

from towpath.engine.inline_budget import INLINE_OUTPUT_CHARS, INLINE_SECONDS
from towpath.steps.settings import StepSettings


class EngineSettings(StepSettings):
    """The engine executes steps, so its settings take in theirs."""

    worker_concurrency: int = Field(default=64, ge=1, le=10_000)
    lease_seconds: float = Field(default=30.0, gt=0)
    poll_seconds: float = Field(default=0.5, gt=0)
    # Pure steps (transform, condition, switch) run inside the transaction that made them
    # ready; off, each is claimed and committed on its own like any other step.
    inline_pure_steps: bool = True
    # On shutdown, steps in flight get this long to finish before they are handed back.
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    # Template time and rendered characters one write transaction may spend on the pure
    # steps it runs inline; past either, the rest go to a worker, off the writer.
    inline_step_seconds: float = Field(default=0.02, gt=0)
    inline_step_output_chars: int = Field(default=1024 * 1024, gt=0)

    # What one workspace may make the engine do, so that no tenant can starve the others.
    # A sub_workflow step that would start a run this many levels below its root run
    # fails, and its run with it.
    max_sub_workflow_depth: int = Field(default=10, ge=1, le=1000)
    # Runs one run tree (a run started by a person or trigger, with every run started
    # from it, waited for or not) may start in all; a start past it fails its step.
    max_runs_per_tree: int = Field(default=1000, ge=1)
    # Items one for_each may run; a longer list fails the step.
    max_for_each_items: int = Field(default=10_000, ge=1)
    # Runs pending, running or waiting at once, per workspace and per workflow (all
    # versions of it). A start past one is refused: 429 over the API, a failed step for
    # a sub_workflow.
    max_runs_in_flight_per_workspace: int = Field(default=10_000, ge=1)
    max_runs_in_flight_per_workflow: int = Field(default=1000, ge=1)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class WorkerSettings:
    worker_id: str = field(default_factory=default_worker_id)
    concurrency: int = 64
    lease_seconds: float = 30.0
    poll_seconds: float = 0.5
    commit_batch: int = 256
    inline_pure_steps: bool = True
    inline_seconds: float = INLINE_SECONDS
    inline_output_chars: int = INLINE_OUTPUT_CHARS
    # On shutdown, steps in flight get this long to finish before they are handed back.
    shutdown_grace_seconds: float = 10.0
    # What other processes commit wakes this worker at most this often (PostgreSQL).
    notice_seconds: float = 0.02


@dataclass(frozen=True)
class RunLimits:
    """The settings' bounds (`TOWPATH_MAX_…`), as the engine applies them."""

    sub_workflow_depth: int = 10
    runs_per_tree: int = 1000
    for_each_items: int = 10_000
    in_flight_per_workspace: int = 10_000
    in_flight_per_workflow: int = 1000
