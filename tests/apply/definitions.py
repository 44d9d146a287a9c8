"""A directory of definitions, as a team keeps them in git."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import yaml

from tests.factories import edge, node

if TYPE_CHECKING:
    from pathlib import Path


def greeter(greeting: str = "hello") -> dict[str, Any]:
    return {
        "kind": "Workflow",
        "name": "greeter",
        "description": "Greets whoever it is given",
        "definition": {
            "nodes": [
                node("greet", "transform", {"output": {"text": greeting + " {{ input.name }}"}}),
                node("done", "transform", {"output": {"said": "{{ greet.text }}"}}),
            ],
            "edges": [edge("greet", "done")],
        },
    }


AGENT = {
    "kind": "Agent",
    "name": "summarizer",
    "url": "http://127.0.0.1:9/summarize",
    "headers": {"Authorization": "Bearer {{ secrets.SUMMARIZER_TOKEN }}"},
    "capabilities": ["summarize"],
}
SCHEDULE = {
    "kind": "Schedule",
    "name": "greet-hourly",
    "workflow": "greeter",
    "spec": {"cron": ["0 * * * *"], "timezone": "Europe/Paris"},
    "input": {"name": "team"},
}
SUBSCRIPTION = {
    "kind": "Subscription",
    "workflow": "greeter",
    "url": "http://127.0.0.1:9/hooks/greeter",
    "event_types": ["run.completed", "run.failed"],
    "description": "Tell the team",
}


def write(directory: Path, relative: str, body: dict[str, Any]) -> Path:
    path = directory / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        path.write_text(json.dumps(body, indent=2))
    else:
        path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


def team_directory(directory: Path, greeting: str = "hello") -> Path:
    """Four objects, in YAML and JSON, one of them in a subdirectory."""
    write(directory, "workflows/greeter.yaml", greeter(greeting))
    write(directory, "agents/summarizer.json", AGENT)
    write(directory, "schedules.yaml", SCHEDULE)
    write(directory, "hooks/greeter.yml", SUBSCRIPTION)
    return directory
