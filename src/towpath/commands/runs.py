"""`towpath runs list|show|start|cancel|retry|watch`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from towpath.commands.connection import ApiKey, Json, Server, Url, reported
from towpath.commands.output import console, moment, print_json, shown, status, table
from towpath.commands.watch import watch

runs_app = typer.Typer(help="Runs: list, show, start, cancel, retry, watch.", no_args_is_help=True)
runs_app.command("watch")(watch)


def json_object(text: str | None, what: str) -> dict[str, Any] | None:
    """A JSON object given on the command line, or read from the file `@PATH` names (`@-`:
    standard input), as curl reads a body; a usage error names the option."""
    if text is None:
        return None
    if text.startswith("@"):
        text = _read_file(text[1:], what)
    try:
        found = json.loads(text)
    except ValueError as error:
        raise typer.BadParameter(f"not JSON: {error}", param_hint=what) from error
    if not isinstance(found, dict):
        raise typer.BadParameter("must be a JSON object", param_hint=what)
    return found


def _read_file(path: str, what: str) -> str:
    # An argument list holds about 128 KB: a larger input comes from a file.
    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise typer.BadParameter(f"cannot read {path}: {error}", param_hint=what) from error


@runs_app.command("list")
def list_runs(
    workflow: Annotated[str | None, typer.Option(help="Only this workflow version's runs.")] = None,
    status_is: Annotated[str | None, typer.Option("--status", help="Only runs in it.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.", min=1)] = 20,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """The workspace's runs, newest first."""
    from towpath.client import calls

    call = calls.list_runs(workflow_id=workflow, status=status_is, sort="-created_at")  # type: ignore[arg-type] # the server checks the status
    with reported(), Server.of(url, api_key).client() as tp:
        found = []
        for run in tp.each(call, per_page=min(limit, 100)):
            found.append(run)
            if len(found) == limit:
                break
    if as_json:
        print_json(found)
        return
    table(
        ["run", "status", "workflow", "created", "error"],
        [
            [
                shown(r.id),
                status(r.status),
                shown(r.workflow_id),
                moment(r.created_at),
                shown(r.error or ""),
            ]
            for r in found
        ],
    )


@runs_app.command("show")
def show_run(run_id: str, url: Url = None, api_key: ApiKey = None, as_json: Json = False) -> None:
    """A run and its steps."""
    from towpath.client import calls

    with reported(), Server.of(url, api_key).client() as tp:
        run = tp.send(calls.get_run(run_id))
        steps = tp.send(calls.list_run_steps(run_id))
    if as_json:
        print_json({"run": run, "steps": steps})
        return
    workflow = shown(run.workflow_id)
    console.print(f"run [bold]{shown(run.id)}[/] {status(run.status)}  workflow {workflow}")
    if run.error:
        console.print(f"[red]{shown(run.error)}[/]")
    table(
        ["step", "type", "status", "attempt", "started", "ended", "error"],
        [
            [
                shown(s.step_id + (f"[{s.item_index}]" if s.item_index is not None else "")),
                shown(s.step_type),
                status(s.status),
                str(s.attempt),
                moment(s.started_at),
                moment(s.completed_at),
                shown(s.error or ""),
            ]
            for s in steps
        ],
    )


@runs_app.command("start")
def start_run(
    workflow_id: str,
    run_input: Annotated[
        str | None,
        typer.Option("--input", help="The run's input, a JSON object, or @FILE (@- for stdin)."),
    ] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Starting again with it answers the first run.")
    ] = None,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """Start a run of a published workflow version; prints its id."""
    body = {"input": json_object(run_input, "--input") or {}}
    from towpath.client import calls

    with reported(), Server.of(url, api_key).client() as tp:
        run = tp.send(calls.start_run(workflow_id, body, idempotency_key=idempotency_key))
    if as_json:
        print_json(run)
    else:
        print(run.id)


@runs_app.command("cancel")
def cancel_run(
    run_id: str,
    reason: Annotated[str | None, typer.Option(help="Kept with the run.")] = None,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """Cancel a run that has not ended."""
    from towpath.client import calls

    with reported(), Server.of(url, api_key).client() as tp:
        run = tp.send(calls.cancel_run(run_id, body={"reason": reason} if reason else None))
    if as_json:
        print_json(run)
    else:
        console.print(f"run {shown(run.id)} {status(run.status)}")


@runs_app.command("retry")
def retry_run(
    run_id: str,
    from_step: Annotated[
        str | None, typer.Option(help="Run this step and all after it again.")
    ] = None,
    input_overrides: Annotated[
        str | None,
        typer.Option(help='JSON: {"input": {...}, "steps": {"step": {...}}} to run with.'),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print which steps would run again; change nothing.")
    ] = False,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """Run a failed, cancelled or completed run again (its failed steps, or from a step)."""
    body: dict[str, Any] = {}
    if from_step:
        body["from_step"] = from_step
    if input_overrides:
        body["input_overrides"] = json_object(input_overrides, "--input-overrides")
    from towpath.client import calls, models

    with reported(), Server.of(url, api_key).client() as tp:
        answer = tp.send(calls.retry_run(run_id, dry_run=dry_run or None, body=body or None))
    if as_json:
        print_json(answer)
        return
    if isinstance(answer, models.RetryPlanResponse):
        console.print(f"would run again: {shown(', '.join(answer.run_again) or '-')}")
        console.print(f"would keep:      {shown(', '.join(answer.keep) or '-')}")
        return
    console.print(f"run {shown(answer.id)} {status(answer.status)}")
