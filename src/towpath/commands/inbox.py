"""`towpath inbox`, and the answers to what waits: `approve`, `reject`, `answer`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from towpath.commands.connection import ApiKey, Json, Server, Url, reported
from towpath.commands.output import console, moment, print_json, shown, status, table
from towpath.commands.runs import json_object

Step = Annotated[
    str | None, typer.Option("--step", help="The waiting step, when the run has several.")
]
Comment = Annotated[str | None, typer.Option(help="Kept with the vote.")]


def inbox(url: Url = None, api_key: ApiKey = None, as_json: Json = False) -> None:
    """The waiting steps you may answer, oldest first."""
    from towpath.client import calls

    with reported(), Server.of(url, api_key).client() as tp:
        found = list(tp.each(calls.list_inbox()))
    if as_json:
        print_json(found)
        return
    table(
        ["run", "step", "type", "workflow", "waiting since", "asks"],
        [
            [
                shown(item.run_id),
                shown(item.step_id),
                shown(item.type),
                shown(item.workflow_name),
                moment(item.waiting_since),
                shown(item.approval.message) if item.approval else "",
            ]
            for item in found
        ],
    )


def _vote(
    run_id: str,
    approved: bool,
    step: str | None,
    comment: str | None,
    server: Server,
    as_json: bool,
) -> None:
    body: dict[str, Any] = {"approved": approved, "step_id": step, "comment": comment}
    from towpath.client import calls

    with reported(), server.client() as tp:
        run = tp.send(calls.approve_run(run_id, {k: v for k, v in body.items() if v is not None}))
    if as_json:
        print_json(run)
    else:
        console.print(f"run {shown(run.id)} {status(run.status)}")


def approve(
    run_id: str,
    step: Step = None,
    comment: Comment = None,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """Approve a run's waiting approval step."""
    _vote(run_id, True, step, comment, Server.of(url, api_key), as_json)


def reject(
    run_id: str,
    step: Step = None,
    comment: Comment = None,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """Reject a run's waiting approval step."""
    _vote(run_id, False, step, comment, Server.of(url, api_key), as_json)


def answer(
    run_id: str,
    answers: Annotated[
        str, typer.Option(help="A JSON object: each question's answer; or @FILE (@- for stdin).")
    ],
    step: Step = None,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """Answer a run's waiting clarification step."""
    body: dict[str, Any] = {"answers": json_object(answers, "--answers")}
    if step:
        body["step_id"] = step
    from towpath.client import calls

    with reported(), Server.of(url, api_key).client() as tp:
        run = tp.send(calls.clarify_run(run_id, body))
    if as_json:
        print_json(run)
    else:
        console.print(f"run {shown(run.id)} {status(run.status)}")
