"""The `towpath` commands that are clients of a server: runs, workflows, the inbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer


def register(app: typer.Typer) -> None:
    """These commands, on the `towpath` command."""
    from towpath.commands.inbox import answer, approve, inbox, reject
    from towpath.commands.runs import runs_app
    from towpath.commands.workflows import workflows_app

    app.add_typer(runs_app, name="runs")
    app.add_typer(workflows_app, name="workflows")
    for command in (inbox, approve, reject, answer):
        app.command()(command)
