"""Templates in config fields that take text: a value that is not text is used as text,
and data is substituted once, never rendered again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.factories import edge, node
from tests.runs import API, publish, start, steps_by_id, wait_for

if TYPE_CHECKING:
    import httpx


async def test_a_switch_on_a_number_takes_the_matching_case(client: httpx.AsyncClient) -> None:
    definition = {
        "nodes": [
            node("route", "switch", {"value": "{{ input.priority }}", "cases": {"urgent": "1"}}),
            node("page", "transform", {"output": {"paged": True}}),
            node("queue", "transform", {"output": {"queued": True}}),
        ],
        "edges": [edge("route", "page", "urgent"), edge("route", "queue", "default")],
    }
    workflow_id = await publish(client, definition)

    run = await start(client, workflow_id, {"priority": 1})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", done["error"]
    steps = await steps_by_id(client, run["id"])
    assert steps["route"]["handle"] == "urgent"
    assert steps["queue"]["status"] == "skipped"


async def test_an_event_key_from_a_numeric_input_matches_its_event(
    client: httpx.AsyncClient,
) -> None:
    config = {"event_name": "paid", "key": "{{ input.order_id }}"}
    definition = {"nodes": [node("paid", "wait_for_event", config)], "edges": []}
    workflow_id = await publish(client, definition)
    run = await start(client, workflow_id, {"order_id": 42})
    waiting = await wait_for(client, run["id"], "waiting", "failed")
    assert waiting["status"] == "waiting", waiting["error"]

    posted = await client.post(f"{API}/events", json={"name": "paid", "key": "42"})

    assert posted.json()["run_ids"] == [run["id"]]
    done = await wait_for(client, run["id"], "completed", "failed")
    assert done["status"] == "completed"


async def test_an_approval_message_that_is_a_number_still_asks(
    client: httpx.AsyncClient,
) -> None:
    definition = {
        "nodes": [node("review", "approval", {"message": "{{ input.amount }}"})],
        "edges": [],
    }
    workflow_id = await publish(client, definition)
    run = await start(client, workflow_id, {"amount": 1200})

    waiting = await wait_for(client, run["id"], "waiting", "failed")

    assert waiting["status"] == "waiting", waiting["error"]
    steps = await steps_by_id(client, run["id"])
    assert steps["review"]["request"]["message"] == "1200"


async def test_template_text_in_data_stays_text_all_the_way_down(
    client: httpx.AsyncClient,
) -> None:
    child = {
        "nodes": [node("echo", "transform", {"output": {"got": "{{ input.word }}!"}})],
        "edges": [],
    }
    child_id = await publish(client, child, name="child")
    call_input = {"word": "{{ second.again }}"}
    definition = {
        "nodes": [
            node("first", "transform", {"output": {"raw": "{{ input.text }}"}}),
            node("second", "transform", {"output": {"again": "<{{ first.raw }}>"}}),
            node(
                "each",
                "for_each",
                {
                    "items": "{{ input.list }}",
                    "step": {"type": "transform", "config": {"output": {"v": "{{ item }}"}}},
                },
            ),
            node("call", "sub_workflow", {"workflow_id": child_id, "input": call_input}),
            node("check", "condition", {"expression": "first.raw == '{{ 7*7 }}'"}),
        ],
        "edges": [
            edge("first", "second"),
            edge("second", "each"),
            edge("each", "call"),
            edge("call", "check"),
        ],
    }
    workflow_id = await publish(client, definition)
    text = "{{ 7*7 }}"

    run = await start(client, workflow_id, {"text": text, "list": [text, "{% if 1 %}x{% endif %}"]})
    done = await wait_for(client, run["id"], "completed", "failed")

    assert done["status"] == "completed", done["error"]
    context = done["context"]
    assert context["first"] == {"raw": text}
    assert context["second"] == {"again": "<{{ 7*7 }}>"}
    assert context["each"] == [{"v": text}, {"v": "{% if 1 %}x{% endif %}"}]
    assert context["call"]["output"]["echo"] == {"got": "<{{ 7*7 }}>!"}
    assert context["check"] == {"result": True}
