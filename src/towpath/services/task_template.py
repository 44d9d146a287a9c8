"""The built-in task workflow: analysis, plan, the plan's approval, execution. A task made
through the `tasks` profile is a workflow made from it, editable like any other."""

from __future__ import annotations

from typing import Any

# What the document gives a run to decide: 5 minutes, then the run fails.
APPROVAL_SECONDS = 300
DEFAULT_MODEL = "gpt-4o-mini"

INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "description": {"type": "string", "description": "What the agent team is to do."},
        "max_rounds": {"type": "integer", "minimum": 1, "description": "Rounds the plan may take."},
    },
}


def _node(
    node_id: str, step_type: str, label: str, x: int, config: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": step_type,
        "position": {"x": x, "y": 0},
        "data": {"label": label, "config": config},
    }


def task_definition(model: str = DEFAULT_MODEL) -> dict[str, Any]:
    """The template's graph. The task's description and round limit come in as run input,
    so they are data to the prompts, never templates themselves."""
    team = "You are one of a team of agents that carries out tasks for people."
    nodes = [
        _node(
            "analysis",
            "llm",
            "Analysis",
            0,
            {
                "model": model,
                "system": team,
                "prompt": "Analyse this task: what it asks, what it needs, what could go"
                " wrong.\n\nTask: {{ input.description }}",
            },
        ),
        _node(
            "plan",
            "llm",
            "Plan",
            250,
            {
                "model": model,
                "system": team,
                "prompt": "Write a numbered plan of at most {{ input.max_rounds }} rounds for"
                " this task.\n\nTask: {{ input.description }}\n\nAnalysis:\n{{ analysis.text }}",
            },
        ),
        _node(
            "approval",
            "approval",
            "Plan approval",
            500,
            {
                "message": "Approve this plan?\n\n{{ plan.text }}",
                "timeout_seconds": APPROVAL_SECONDS,
                "on_timeout": "fail",
            },
        ),
        _node(
            "execute",
            "llm",
            "Execution",
            750,
            {
                "model": model,
                "system": team,
                "prompt": "Carry out this plan and report the result.\n\nTask:"
                " {{ input.description }}\n\nPlan:\n{{ plan.text }}",
            },
        ),
    ]
    edges = [
        {"id": "analysis-plan", "source": "analysis", "target": "plan"},
        {"id": "plan-approval", "source": "plan", "target": "approval"},
        # No `rejected` edge: a rejected plan fails the run, and the task stops.
        {
            "id": "approval-execute",
            "source": "approval",
            "target": "execute",
            "sourceHandle": "approved",
        },
    ]
    return {"nodes": nodes, "edges": edges}
