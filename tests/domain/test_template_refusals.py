"""A template the sandbox would refuse when it runs is refused by validation and publish,
naming its node and config path; keys of run data such as `_id` stay readable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.factories import edge, node
from tests.runs import API, publish, start, steps_by_id, wait_for
from towpath.domain.templates import TemplateError, referenced_names, render_value

if TYPE_CHECKING:
    import httpx

REFUSED = {
    "dunder-of-a-literal": "{{ ''.__class__.__mro__ }}",
    "dunder-of-data": "{{ input.name.__class__ }}",
    "dunder-as-key": "{{ input['__globals__'] }}",
    "dunder-by-filter": "{{ input | attr('__class__') }}",
    "dunder-by-attribute-filter": "{{ input.list | map(attribute='x.__class__') | list }}",
    "private-of-a-literal": "{{ 'text'._formatter_parser }}",
    "private-of-loop": "{% for x in input.list %}{{ loop._length }}{% endfor %}",
    "private-of-a-global": "{{ range(3)._start }}",
    "mutating-call": "{{ input.list.append(1) }}",
    "calling-data": "{{ input() }}",
    "self": "{{ self }}",
    "include": "{% include 'other' %}",
    "import": "{% import 'macros' as m %}",
}


def _one_node(template: str) -> dict[str, Any]:
    return {"nodes": [node("shape", "transform", {"output": {"v": template}})], "edges": []}


@pytest.mark.parametrize("template", REFUSED.values(), ids=REFUSED.keys())
async def test_a_template_the_sandbox_refuses_is_not_published(
    client: httpx.AsyncClient, template: str
) -> None:
    body = {"name": "t", "definition": _one_node(template)}
    workflow_id = (await client.post(f"{API}/workflows", json=body)).json()["id"]

    validated = await client.post(f"{API}/workflows/{workflow_id}/validate")
    published = await client.post(f"{API}/workflows/{workflow_id}/publish")

    issues = validated.json()["issues"]
    assert [(i["code"], i["node_id"], i["path"]) for i in issues] == [
        ("template_not_allowed", "shape", "config.output.v")
    ], issues
    assert "node 'shape': config.output.v: template" in issues[0]["message"]
    assert published.status_code == 422, published.text
    envelope = published.json()
    assert envelope["error_code"] == "WORKFLOW_INVALID"
    assert envelope["details"]["errors"] == issues


async def test_a_condition_reading_a_dunder_is_refused_at_its_expression(
    client: httpx.AsyncClient,
) -> None:
    definition = {
        "nodes": [
            node("check", "condition", {"expression": "input.__class__.__name__ == 'dict'"}),
            node("yes", "transform", {"output": {}}),
        ],
        "edges": [edge("check", "yes", "true")],
    }
    workflow_id = (
        await client.post(f"{API}/workflows", json={"name": "c", "definition": definition})
    ).json()["id"]

    issues = (await client.post(f"{API}/workflows/{workflow_id}/validate")).json()["issues"]

    assert [(i["code"], i["node_id"], i["path"]) for i in issues] == [
        ("template_not_allowed", "check", "config.expression")
    ]


# `self` renders as Jinja's reference to the template itself: no data, so refused as well.
FAILING = {name: template for name, template in REFUSED.items() if name != "self"}


@pytest.mark.parametrize("template", FAILING.values(), ids=FAILING.keys())
def test_each_refused_template_would_fail_when_rendered(template: str) -> None:
    data = {"name": "ada", "list": [{"x": 1}]}

    with pytest.raises(TemplateError):
        render_value({"v": template}, {"input": data, "secrets": {}, "steps": {}})


async def test_keys_of_run_data_that_start_with_an_underscore_are_read(
    client: httpx.AsyncClient,
) -> None:
    # Search engines and document stores answer with `_id`, `_source`, `__typename`.
    read = {
        "id": "{{ input.hit._id }}",
        "title": "{{ (input.hits | first)._source.title }}",
        "kind": "{{ input['__typename'] }}",
    }
    definition = {"nodes": [node("shape", "transform", {"output": read})], "edges": []}
    workflow_id = await publish(client, definition)
    run_input = {
        "hit": {"_id": "h1"},
        "hits": [{"_source": {"title": "Towpaths"}}],
        "__typename": "Canal",
    }

    run = await start(client, workflow_id, run_input)

    await wait_for(client, run["id"], "completed")
    output = (await steps_by_id(client, run["id"]))["shape"]["output"]
    assert output == {"id": "h1", "title": "Towpaths", "kind": "Canal"}


def test_jinja_globals_and_locals_are_not_unknown_names() -> None:
    template = (
        "{% set ns = namespace(n=0) %}{% for i in range(2) %}{{ loop.index }}"
        "{{ cycler('a', 'b').next() }}{% endfor %}{{ dict(a=1) | length }}{{ input.x }}"
    )

    assert referenced_names(template) == {"input"}
