"""`towpath runs watch`: a run's steps as a live tree, drawn from its event stream."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import typer
from rich.console import Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.tree import Tree

from towpath.commands.connection import ApiKey, Json, Server, Url, reported
from towpath.commands.output import console, shown, status

if TYPE_CHECKING:
    from towpath.client import AsyncClient, Event
    from towpath.client.models import RunResponse, StepRunResponse

# Exit statuses, told in --help.
COMPLETED, FAILED, CANCELLED = 0, 3, 4
EXIT_STATUS = {"completed": COMPLETED, "failed": FAILED, "cancelled": CANCELLED}
STEP_EVENTS = {
    "step.pending": "pending",
    "step.queued": "queued",
    "step.started": "running",
    "step.resumed": "running",
    "step.waiting": "waiting",
    "step.delayed": "waiting",
    "step.retrying": "retrying",
    "step.held": "held",
    "step.completed": "completed",
    "step.failed": "failed",
    "step.skipped": "skipped",
    "step.cancelled": "cancelled",
}
RUN_EVENTS = {
    "run.started": "running",
    "run.resumed": "running",
    "run.unpaused": "running",
    "run.retried": "running",
    "run.waiting": "waiting",
    "run.paused": "paused",
    "run.completed": "completed",
    "run.failed": "failed",
    "run.cancelled": "cancelled",
}
ENDED = frozenset({"completed", "failed", "skipped", "cancelled"})
ICONS = {"completed": "✔", "failed": "✖", "cancelled": "✖", "skipped": "↷", "running": "▶"}


@dataclass
class StepView:
    status: str = "pending"
    started: datetime | None = None
    ended: datetime | None = None
    error: str | None = None

    def duration(self) -> str:
        if self.started is None:
            return ""
        end = self.ended or datetime.now(UTC)
        return f"{(end - self.started).total_seconds():.1f}s"


@dataclass
class RunView:
    """What the tree shows, kept up to date from the snapshot and each event."""

    run_id: str
    name: str = ""
    status: str = "pending"
    steps: dict[str, StepView] = field(default_factory=dict)

    def take_run(self, run: RunResponse, steps: list[StepRunResponse]) -> None:
        self.status = run.status
        for found in steps:
            if found.item_index is None:
                view = self.steps.setdefault(found.step_id, StepView())
                view.status, view.error = found.status, found.error
                view.started, view.ended = found.started_at, found.completed_at

    def take_event(self, event: Event) -> None:
        if event.event_type in RUN_EVENTS:
            self.status = RUN_EVENTS[event.event_type]
        if event.step_id is None or event.event_type not in STEP_EVENTS:
            return
        if event.data.get("item_index") is not None:
            return
        view = self.steps.setdefault(event.step_id, StepView())
        view.status = STEP_EVENTS[event.event_type]
        if view.status == "running" and view.started is None:
            view.started = event.timestamp
        if view.status in ENDED:
            view.ended = event.timestamp
            view.error = event.data.get("error") or view.error

    def render(self) -> Group:
        tree = Tree(f"[bold]{shown(self.name)}[/] run {shown(self.run_id)}  {status(self.status)}")
        width = max((len(step_id) for step_id in self.steps), default=0)
        for step_id, view in list(self.steps.items()):
            icon = ICONS.get(view.status, "•")
            label = f"{status(view.status)}{' ' * (9 - len(view.status))}"
            step = shown(f"{step_id:<{width}}")
            branch = tree.add(f"{icon} {step}  {label}  {view.duration()}".rstrip())
            if view.error and view.status == "failed":
                branch.add(f"[red]{shown(view.error)}[/]")
        done = sum(1 for view in self.steps.values() if view.status in ENDED)
        total = max(len(self.steps), 1)
        bar = Table.grid(padding=(0, 1))
        bar.add_row(ProgressBar(total=total, completed=done, width=40), f"{done}/{total} steps")
        return Group(tree, bar)


async def _follow(tp: AsyncClient, run_id: str, as_json: bool) -> str:
    from towpath.client import Event, Snapshot, calls
    from towpath.client.models import WorkflowDefinition

    run = await tp.send(calls.get_run(run_id))
    workflow = await tp.send(calls.get_workflow(run.workflow_id))
    view = RunView(run_id, workflow.name)
    # Every step of the graph has its line from the start, in the definition's order.
    for node in WorkflowDefinition.model_validate(workflow.definition).nodes or []:
        view.steps[node.id] = StepView()
    if as_json:
        async for message in tp.run_events(run_id):
            print(json.dumps(message.model_dump(mode="json")), flush=True)
            if isinstance(message, Snapshot):
                view.status = message.run.status
            elif isinstance(message, Event):
                view.take_event(message)
        return view.status
    # Drawn again twice a second, so that a running step's time goes on.
    with Live(console=console, get_renderable=view.render, refresh_per_second=2) as live:
        async for message in tp.run_events(run_id):
            if isinstance(message, Snapshot):
                steps = await tp.send(calls.list_run_steps(run_id))
                view.take_run(message.run, steps)
            elif isinstance(message, Event):
                view.take_event(message)
            live.refresh()
    if not console.is_terminal:
        # Live leaves its last drawing without an end of line when it is not a terminal.
        console.print()
    return view.status


def watch(
    run_id: str,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """Draw a run's steps as a live tree until the run ends; follow it again after a lost
    connection. With --json, print each stream message as one JSON line instead.

    Exit status: 0 the run completed, 3 it failed, 4 it was cancelled, 1 the server
    refused or could not be reached."""
    with reported():
        ended = asyncio.run(_watch(Server.of(url, api_key), run_id, as_json))
    raise typer.Exit(EXIT_STATUS.get(ended, 1))


async def _watch(server: Server, run_id: str, as_json: bool) -> str:
    async with server.async_client() as tp:
        return await _follow(tp, run_id, as_json)
