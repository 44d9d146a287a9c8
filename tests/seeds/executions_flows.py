"""Workflows for the execution API's tests, published through towpath's own API: the
document has no way to define one (its workflows come from a seed directory)."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from tests.factories import edge, node


def accepted_then_done(gates: int = 1) -> dict[str, Any]:
    """`gates` acceptances one after the other, then a transform."""
    nodes = [node(f"review{i}", "approval", {"message": f"ship {i}?"}) for i in range(gates)]
    nodes.append(node("done", "transform", {"output": {"shipped": True}}))
    ids = [n["id"] for n in nodes]
    return {"nodes": nodes, "edges": [edge(a, b) for a, b in pairwise(ids)]}


def clarified_then_done() -> dict[str, Any]:
    question = {"id": "size", "text": "Which size?", "required": True}
    return {
        "nodes": [
            node("ask", "clarification", {"questions": [question]}),
            node("done", "transform", {"output": {"size": "{{ ask.size }}"}}),
        ],
        "edges": [edge("ask", "done")],
    }


def straight_through() -> dict[str, Any]:
    return {"nodes": [node("only", "transform", {"output": {"ok": True}})], "edges": []}


def typed_form() -> dict[str, Any]:
    """A clarification whose questions want a number, a whole number, a boolean, one
    option and several options."""
    questions = [
        {"id": "ratio", "text": "Ratio?", "type": "number"},
        {"id": "count", "text": "How many?", "type": "integer", "min": 1},
        {"id": "urgent", "text": "Urgent?", "type": "boolean"},
        {"id": "level", "text": "Level?", "type": "choice", "options": ["low", "high"]},
        {"id": "extras", "text": "Extras?", "type": "multi_choice", "options": ["card", "wrap"]},
    ]
    return {
        "nodes": [
            node("ask", "clarification", {"questions": questions}),
            node("done", "transform", {"output": {"count": "{{ ask.count }}"}}),
        ],
        "edges": [edge("ask", "done")],
    }
