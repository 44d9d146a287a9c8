"""The workflow the console's tests run: a transform, an approval, a clarification with a
form of two fields, and a last transform."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.factories import edge, node
from tests.runs import start, wait_for_step

if TYPE_CHECKING:
    import httpx

STEPS = ("greet", "review", "ask", "done")


def review_definition() -> dict[str, Any]:
    return {
        "nodes": [
            node("greet", "transform", {"output": {"text": "hi {{ input.name }}"}}),
            node("review", "approval", {"message": "Send the welcome to {{ input.name }}?"}),
            node(
                "ask",
                "clarification",
                {
                    "questions": [
                        {
                            "id": "tone",
                            "text": "Which tone?",
                            "type": "choice",
                            "options": ["warm", "formal"],
                        },
                        {"id": "copies", "text": "How many copies?", "type": "integer"},
                    ]
                },
            ),
            node("done", "transform", {"output": {"tone": "{{ ask.tone }}"}}),
        ],
        "edges": [edge("greet", "review"), edge("review", "ask"), edge("ask", "done")],
    }


async def draft(client: httpx.AsyncClient, name: str = "Welcome") -> str:
    """A draft workflow, not yet published: the console publishes it."""
    response = await client.post(
        "/api/v1/workflows",
        json={
            "name": name,
            "description": "greets a new user after a review",
            "definition": review_definition(),
            "input_schema": {
                "type": "object",
                "properties": {"name": {"type": "string", "title": "Name"}},
                "required": ["name"],
            },
        },
    )
    assert response.status_code == 201, response.text
    workflow_id: str = response.json()["id"]
    return workflow_id


async def waiting_run(client: httpx.AsyncClient) -> str:
    """A run of a published workflow, waiting for its review."""
    workflow_id = await draft(client)
    assert (await client.post(f"/api/v1/workflows/{workflow_id}/publish")).status_code == 200
    run_id: str = (await start(client, workflow_id, {"name": "Bo"}))["id"]
    await wait_for_step(client, run_id, "review", "waiting")
    return run_id


async def broken_draft(client: httpx.AsyncClient) -> str:
    """A draft whose condition has no expression: validation pins that to node `check`."""
    definition = {
        "nodes": [node("greet", "transform", {"output": {}}), node("check", "condition", {})],
        "edges": [edge("greet", "check")],
    }
    response = await client.post(
        "/api/v1/workflows", json={"name": "Unfinished", "definition": definition}
    )
    assert response.status_code == 201, response.text
    workflow_id: str = response.json()["id"]
    return workflow_id
