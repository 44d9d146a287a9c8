"""`towpath workflows list|show|publish|validate`."""

from __future__ import annotations

from typing import Annotated

import typer

from towpath.commands.connection import ApiKey, Json, Server, Url, reported
from towpath.commands.output import console, moment, print_json, shown, status, table

workflows_app = typer.Typer(help="Workflows: list, show, publish, validate.", no_args_is_help=True)


@workflows_app.command("list")
def list_workflows(
    name: Annotated[str | None, typer.Option(help="Part of the name.")] = None,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """Every workflow version of the workspace."""
    from towpath.client import calls

    with reported(), Server.of(url, api_key).client() as tp:
        found = [w for w in tp.each(calls.list_workflows()) if name is None or name in w.name]
    if as_json:
        print_json(found)
        return
    table(
        ["id", "name", "version", "status", "updated"],
        [
            [shown(w.id), shown(w.name), str(w.version), status(w.status), moment(w.updated_at)]
            for w in found
        ],
    )


@workflows_app.command("show")
def show_workflow(
    workflow_id: str, url: Url = None, api_key: ApiKey = None, as_json: Json = False
) -> None:
    """A workflow version and its steps."""
    from towpath.client import calls

    with reported(), Server.of(url, api_key).client() as tp:
        workflow = tp.send(calls.get_workflow(workflow_id))
    if as_json:
        print_json(workflow)
        return
    console.print(
        f"[bold]{shown(workflow.name)}[/] v{workflow.version} {status(workflow.status)}"
        f"  {shown(workflow.id)}"
    )
    nodes = workflow.definition.get("nodes", [])
    table(["step", "type"], [[shown(n.get("id")), shown(n.get("type"))] for n in nodes])


@workflows_app.command("publish")
def publish_workflow(
    workflow_id: str, url: Url = None, api_key: ApiKey = None, as_json: Json = False
) -> None:
    """Publish a draft: runs may start from it."""
    from towpath.client import calls

    with reported(), Server.of(url, api_key).client() as tp:
        workflow = tp.send(calls.publish_workflow(workflow_id))
    if as_json:
        print_json(workflow)
    else:
        console.print(f"{shown(workflow.name)} v{workflow.version} {status(workflow.status)}")


@workflows_app.command("validate")
def validate_workflow(
    workflow_id: str, url: Url = None, api_key: ApiKey = None, as_json: Json = False
) -> None:
    """Check a workflow's definition; exit status 1 when it has errors."""
    from towpath.client import calls

    with reported(), Server.of(url, api_key).client() as tp:
        found = tp.send(calls.validate_workflow(workflow_id))
    if as_json:
        print_json(found)
    else:
        for issue in found.issues:
            console.print(f"{shown(issue.code)}: {shown(issue.message)}")
        console.print("[green]valid[/]" if found.valid else "[red]invalid[/]")
    if not found.valid:
        raise typer.Exit(1)
