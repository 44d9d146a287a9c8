"""The four kinds of object a definition file holds: their fields in file order, the API's
defaults for the fields a file may leave out, and the form two objects are compared in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Kind:
    name: str
    # The fields after `kind`, in the order an export writes them.
    fields: tuple[str, ...]
    required: tuple[str, ...]
    # What the API stores when a field is left out; tests check these against the API's.
    defaults: dict[str, Any] = field(default_factory=dict)


WORKFLOW = Kind(
    "Workflow",
    ("name", "description", "input_schema", "definition"),
    ("name", "definition"),
    {"description": "", "input_schema": None},
)
# An agent's own `kind` (`http`) is `agent_kind` in a file, where `kind` names the object.
AGENT = Kind(
    "Agent",
    (
        "name",
        "agent_kind",
        "url",
        "health_url",
        "description",
        "capabilities",
        "headers",
        "timeout_seconds",
        "retry",
        "config",
        "enabled",
    ),
    ("name", "url"),
    {
        "agent_kind": "http",
        "health_url": None,
        "description": "",
        "capabilities": [],
        "headers": {},
        "timeout_seconds": 30.0,
        "retry": {},
        "config": {},
        "enabled": True,
    },
)
SCHEDULE = Kind(
    "Schedule",
    (
        "name",
        "workflow",
        "workflow_version",
        "spec",
        "input",
        "overlap",
        "catchup_window_seconds",
        "pause_on_failure",
    ),
    ("name", "workflow", "spec"),
    {
        "workflow_version": None,
        "input": {},
        "overlap": "skip",
        "catchup_window_seconds": 60,
        "pause_on_failure": False,
    },
)
# Outgoing webhooks have no name: a subscription is the one of its URL and workflow.
SUBSCRIPTION = Kind(
    "Subscription",
    ("workflow", "url", "event_types", "description", "enabled"),
    ("url", "event_types"),
    {"workflow": None, "description": "", "enabled": True},
)
KINDS = {kind.name: kind for kind in (AGENT, WORKFLOW, SCHEDULE, SUBSCRIPTION)}

SPEC_DEFAULTS: dict[str, Any] = {
    "cron": [],
    "intervals": [],
    "timezone": "UTC",
    "start_at": None,
    "end_at": None,
    "jitter_seconds": 0,
}
# A step's retry policy as the API stores it: only what differs from these.
RETRY_DEFAULTS: dict[str, Any] = {
    "max_attempts": 1,
    "backoff_seconds": 1.0,
    "max_backoff_seconds": 300.0,
    "retry_on": None,
}


def key_of(kind: Kind, fields: dict[str, Any]) -> str:
    """What names the object among those of its kind, on the server and in a directory."""
    if kind is SUBSCRIPTION:
        return f"{fields['url']} of {fields.get('workflow') or 'every workflow'}"
    return str(fields["name"])


def _moment(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _spec(spec: Any) -> Any:
    if not isinstance(spec, dict):
        return spec
    full = {**SPEC_DEFAULTS, **spec}
    full["intervals"] = [
        {"offset_seconds": 0, **item} if isinstance(item, dict) else item
        for item in full["intervals"] or []
    ]
    full["start_at"] = _moment(full["start_at"])
    full["end_at"] = _moment(full["end_at"])
    return full


def comparable(kind: Kind, fields: dict[str, Any]) -> dict[str, Any]:
    """The object with every default filled in and the API's own rewrites made, so a file
    and the server's copy of it compare equal."""
    full = {name: fields.get(name, kind.defaults.get(name)) for name in kind.fields}
    if kind is AGENT and isinstance(full["retry"], dict):
        full["retry"] = {
            k: v
            for k, v in full["retry"].items()
            if k not in RETRY_DEFAULTS or RETRY_DEFAULTS[k] != v
        }
    if kind is SCHEDULE:
        full["spec"] = _spec(full["spec"])
    if kind is SUBSCRIPTION and isinstance(full["event_types"], list):
        full["event_types"] = sorted(dict.fromkeys(map(str, full["event_types"])))
    return full
