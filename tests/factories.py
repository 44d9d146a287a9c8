"""Workflow definitions the tests build on."""

from __future__ import annotations

from typing import Any


def node(node_id: str, step_type: str, config: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": step_type,
        "position": {"x": 0, "y": 0},
        "data": {"label": node_id, "config": config},
        **extra,
    }


def edge(source: str, target: str, handle: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"id": f"{source}->{target}", "source": source, "target": target}
    if handle is not None:
        found["sourceHandle"] = handle
    return found


def branching_definition() -> dict[str, Any]:
    """greet -> check (condition) -> big | small: a valid, publishable graph."""
    return {
        "nodes": [
            node("greet", "transform", {"output": {"text": "hi {{ input.name }}"}}, width=150),
            node("check", "condition", {"expression": "input.amount > 100"}),
            node("big", "transform", {"output": {"said": "{{ greet.text }}"}}),
            node("small", "transform", {"output": {"n": "{{ input.amount }}"}}),
        ],
        "edges": [
            edge("greet", "check"),
            edge("check", "big", "true"),
            edge("check", "small", "false"),
        ],
        "viewport": {"x": 0, "y": 0, "zoom": 1},
    }


def workflow_body(name: str = "Onboarding", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "description": "welcomes a user",
        "definition": branching_definition(),
        "input_schema": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "amount": {"type": "number"}},
            "required": ["name"],
        },
    }
    body.update(overrides)
    return body
