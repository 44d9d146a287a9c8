"""Clarification forms through the API: typed questions with rules, answers checked
against them all at once, defaults in the output, and the catalog describing the form."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from jsonschema.validators import Draft202012Validator

from tests.factories import edge, node
from tests.runs import API, event_types, publish, start, steps_by_id, wait_for

if TYPE_CHECKING:
    import httpx

QUESTIONS: list[dict[str, Any]] = [
    {"id": "name", "text": "Name?", "min_length": 2, "max_length": 20, "pattern": "^[A-Z]"},
    {"id": "budget", "text": "Budget?", "type": "number", "min": 0, "max": 1000.5},
    {"id": "seats", "text": "Seats?", "type": "integer", "min": 1, "max": 10},
    {"id": "urgent", "text": "Urgent?", "type": "boolean", "required": False, "default": False},
    {"id": "size", "text": "Size?", "type": "choice", "options": ["S", "M", "L"]},
    {"id": "tier", "text": "Tier?", "type": "choice", "choices": ["gold", "silver"]},
    {
        "id": "extras",
        "text": "Extras?",
        "type": "multi_choice",
        "options": ["wifi", "lunch", "parking"],
        "min_selections": 1,
        "max_selections": 2,
    },
    {"id": "on", "text": "When?", "type": "date", "min": "2026-01-01", "max": "2026-12-31"},
    {"id": "note", "text": "Note?", "required": False, "default": "none"},
    {"id": "later", "text": "Later?", "type": "date", "required": False},
]


def form(questions: list[dict[str, Any]]) -> dict[str, Any]:
    """ask (clarification) -> use, which reads the answers."""
    return {
        "nodes": [
            node("ask", "clarification", {"questions": questions}),
            node(
                "use",
                "transform",
                {"output": {"first": "{{ ask.extras[0] }}", "seats": "{{ ask.seats + 1 }}"}},
            ),
        ],
        "edges": [edge("ask", "use")],
    }


async def waiting_form(client: httpx.AsyncClient, questions: list[dict[str, Any]]) -> str:
    run = await start(client, await publish(client, form(questions)))
    await wait_for(client, run["id"], "waiting")
    return str(run["id"])


async def clarify(
    client: httpx.AsyncClient, run_id: str, answers: dict[str, Any]
) -> httpx.Response:
    return await client.post(f"{API}/runs/{run_id}/clarify", json={"answers": answers})


async def test_a_form_of_every_type_is_shown_checked_and_answered(
    client: httpx.AsyncClient,
) -> None:
    run_id = await waiting_form(client, QUESTIONS)
    asked = (await steps_by_id(client, run_id))["ask"]["request"]["questions"]
    by_id = {q["id"]: q for q in asked}
    # Both names of the options, for the clients that read either.
    assert by_id["size"]["options"] == by_id["size"]["choices"] == ["S", "M", "L"]
    assert by_id["tier"]["options"] == by_id["tier"]["choices"] == ["gold", "silver"]
    assert by_id["extras"]["max_selections"] == 2
    assert (by_id["on"]["min"], by_id["note"]["default"]) == ("2026-01-01", "none")

    wrong = await clarify(
        client,
        run_id,
        {
            "name": "ada",
            "budget": 1001,
            "seats": 2.5,
            "urgent": "yes",
            "size": "XL",
            "tier": "gold",
            "extras": ["wifi", "wifi"],
            "on": "2026-02-30",
            "later": "28/11/2026",
            "colour": "red",
        },
    )

    assert wrong.status_code == 422, wrong.text
    body = wrong.json()
    assert body["error_code"] == "ANSWERS_INVALID"
    assert body["details"]["step_id"] == "ask"
    assert body["details"]["errors"] == [
        {"question": "colour", "message": "no such question"},
        {"question": "name", "message": "does not match the pattern '^[A-Z]'"},
        {"question": "budget", "message": "expected at most 1000.5"},
        {"question": "seats", "message": "expected a whole number"},
        {"question": "urgent", "message": "expected true or false"},
        {"question": "size", "message": "expected one of ['S', 'M', 'L']"},
        {"question": "extras", "message": "'wifi' is chosen more than once"},
        {"question": "on", "message": "expected a date as YYYY-MM-DD"},
        {"question": "later", "message": "expected a date as YYYY-MM-DD"},
    ]
    assert (await steps_by_id(client, run_id))["ask"]["status"] == "waiting"
    assert "clarification.answered" not in await event_types(client, run_id)

    more = await clarify(
        client, run_id, {"name": "A", "seats": 0, "extras": [], "on": "2025-12-31"}
    )
    assert {e["question"]: e["message"] for e in more.json()["details"]["errors"]} == {
        "name": "expected at least 2 characters",
        "budget": "an answer is required",
        "seats": "expected at least 1",
        "size": "an answer is required",
        "tier": "an answer is required",
        "extras": "expected at least 1 of the options",
        "on": "expected 2026-01-01 or later",
    }

    answers = {
        "name": "Ada",
        "budget": 12.5,
        "seats": 3.0,
        "size": "M",
        "tier": "silver",
        "extras": ["lunch", "wifi"],
        "on": "2026-11-28",
        "note": None,
    }
    answered = await clarify(client, run_id, answers)

    assert answered.status_code == 200, answered.text
    done = await wait_for(client, run_id, "completed", "failed")
    assert done["status"] == "completed", done
    # Unanswered optional questions take their defaults; one without a default stays out.
    assert done["context"]["ask"] == {
        **answers,
        "seats": 3,
        "urgent": False,
        "note": "none",
    }
    assert done["context"]["use"] == {"first": "lunch", "seats": 4}


async def test_a_pattern_cannot_hold_the_server_however_it_backtracks(
    client: httpx.AsyncClient,
) -> None:
    run_id = await waiting_form(
        client,
        [{"id": "code", "text": "Code?", "pattern": "^(a+)+$"}, *QUESTIONS[1:2]],
    )

    # A backtracking matcher takes longer than the age of the universe on this.
    refused = await clarify(client, run_id, {"code": "a" * 50_000 + "!", "budget": 1})

    assert refused.status_code == 422, refused.text
    assert refused.json()["details"]["errors"] == [
        {"question": "code", "message": "does not match the pattern '^(a+)+$'"}
    ]


@pytest.mark.parametrize(
    ("question", "says"),
    [
        ({"type": "number", "min": 5, "max": 1}, "`min` (5) is above `max` (1)"),
        ({"type": "date", "min": "2026-02-01", "max": "2026-01-01"}, "is above `max`"),
        ({"type": "date", "max": "2026-02-30"}, "must be a date as YYYY-MM-DD"),
        ({"min_length": 3, "max_length": 2}, "`min_length` (3) is above `max_length` (2)"),
        ({"pattern": "(a"}, "`pattern` '(a' is not a regular expression"),
        ({"pattern": "(a)\\1"}, "no backreferences"),
        ({"type": "choice"}, "needs `choices` or `options`"),
        ({"type": "choice", "options": ["a"], "choices": ["a"]}, "not both"),
        ({"type": "choice", "options": ["a", "a"]}, "'a' is listed more than once"),
        ({"type": "number", "pattern": "x"}, "a number question cannot have `pattern`"),
        ({"type": "multi_choice", "options": ["a"], "min_selections": 2}, "more than its 1"),
        ({"type": "integer", "max": 3, "default": 4}, "default 4 is refused: expected at most 3"),
        ({"type": "choice", "options": ["a"], "default": "b"}, "default 'b' is refused"),
        ({"type": "date", "default": "tomorrow"}, "expected a date as YYYY-MM-DD"),
        ({"pattern": "^x", "default": "y"}, "does not match the pattern"),
    ],
)
async def test_a_form_that_cannot_be_answered_is_refused_at_publish(
    client: httpx.AsyncClient, question: dict[str, Any], says: str
) -> None:
    definition = form([{"id": "q", "text": "?", **question}])
    created = await client.post(f"{API}/workflows", json={"name": "wf", "definition": definition})
    assert created.status_code == 201, created.text
    workflow_id = created.json()["id"]

    published = await client.post(f"{API}/workflows/{workflow_id}/publish")

    assert published.status_code == 422, published.text
    errors = published.json()["details"]["errors"]
    assert any(e["node_id"] == "ask" and says in e["message"] for e in errors), errors
    workflow = await client.get(f"{API}/workflows/{workflow_id}")
    assert workflow.json()["status"] == "draft"


async def test_a_templated_default_is_checked_once_rendered(client: httpx.AsyncClient) -> None:
    questions = [
        {"id": "size", "text": "?", "type": "choice", "options": ["S", "M"], "required": False,
         "default": "{{ input.size }}"},
    ]  # fmt: skip
    definition = {"nodes": [node("ask", "clarification", {"questions": questions})], "edges": []}
    workflow_id = await publish(client, definition)
    good = await start(client, workflow_id, {"size": "M"})
    bad = await start(client, workflow_id, {"size": "XL"})

    await wait_for(client, good["id"], "waiting")
    assert (await clarify(client, good["id"], {})).status_code == 200
    assert (await wait_for(client, good["id"], "completed"))["context"]["ask"] == {"size": "M"}
    failed = await wait_for(client, bad["id"], "failed")
    assert "default 'XL' is refused" in failed["error"]


async def test_the_catalog_describes_the_form(client: httpx.AsyncClient) -> None:
    catalog = {e["type"]: e for e in (await client.get(f"{API}/catalog/steps")).json()}
    schema = catalog["clarification"]["config_schema"]
    validator = Draft202012Validator(schema)

    def accepts(**question: Any) -> bool:
        return validator.is_valid({"questions": [{"id": "q", "text": "?", **question}]})

    assert accepts(type="multi_choice", options=["a", "b"], min_selections=1, default=["a"])
    assert accepts(type="choice", choices=["a"])
    assert accepts(type="date", min="2026-01-01", default="2026-06-01")
    assert accepts(type="integer", min=1, max=3, default=2)
    assert accepts(min_length=1, max_length=3, pattern="^a")
    assert not accepts(type="choice")
    assert not accepts(type="choice", options=["a"], choices=["a"])
    assert not accepts(type="calendar")
    assert not accepts(type="number", pattern="^a")
    assert not accepts(type="text", min_selections=1)
    assert not accepts(type="date", min=3)
    assert not accepts(type="integer", default=2.5)
    assert not accepts(type="boolean", options=["yes"])
    assert not accepts(type="multi_choice", options=["a"], default="a")
