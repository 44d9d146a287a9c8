"""Checks of workflow definitions, with small stand-in step types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import BaseModel, ConfigDict

from towpath.domain.validation import (
    DefinitionError,
    DefinitionLimits,
    check_size,
    validate_definition,
)

if TYPE_CHECKING:
    import builtins


class Retry(BaseModel):
    max_attempts: int = 1


class NoopConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str | None = None
    retry: Retry | None = None


class BranchConfig(BaseModel):
    expression: str


class InnerStep(BaseModel):
    type: str
    config: dict[str, Any] = {}


class LoopConfig(BaseModel):
    items: str
    step: InnerStep


@dataclass(frozen=True)
class FakeSpec:
    type: str
    # Spelled out: the field `type` above shadows the builtin inside the class body.
    config_model: builtins.type[BaseModel]
    expression_fields: tuple[str, ...] = ()
    handles: frozenset[str] | None = None
    required: bool = False

    def branch_handles(self, config: BaseModel) -> frozenset[str] | None:
        return self.handles

    def handle_required(self) -> bool:
        return self.required


SPECS = {
    spec.type: spec
    for spec in (
        FakeSpec("noop", NoopConfig),
        FakeSpec("branch", BranchConfig, ("expression",), frozenset({"true", "false"}), True),
        FakeSpec("for_each", LoopConfig),
    )
}


def node(node_id: str, step_type: str = "noop", **config: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": step_type,
        "position": {"x": 0, "y": 0},
        "data": {"label": node_id, "config": config},
    }


def edge(source: str, target: str, handle: str | None = None, **extra: Any) -> dict[str, Any]:
    return (
        {"id": f"{source}->{target}", "source": source, "target": target}
        | ({"sourceHandle": handle} if handle else {})
        | extra
    )


def definition(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> dict[str, Any]:
    return {"nodes": nodes, "edges": edges}


def validate(value: Any, **options: Any) -> list[DefinitionError]:
    return validate_definition(value, SPECS, **options)


def codes(errors: list[DefinitionError]) -> list[str]:
    return [error.code for error in errors]


def only(errors: list[DefinitionError], code: str) -> DefinitionError:
    found = [error for error in errors if error.code == code]
    assert len(found) == 1, errors
    return found[0]


def test_a_realistic_react_flow_definition_is_valid() -> None:
    value = {
        "nodes": [
            {
                "id": "fetch_user",
                "type": "noop",
                "position": {"x": 100, "y": 40},
                "data": {"label": "Fetch user", "config": {"value": "{{ input.user_id }}"}},
                "width": 180,
                "height": 56,
                "selected": False,
                "dragging": False,
                "measured": {"width": 180, "height": 56},
            },
            {
                "id": "is_admin",
                "type": "branch",
                "position": {"x": 100, "y": 160},
                "data": {
                    "label": "Admin?",
                    "config": {"expression": "fetch_user.body.role == 'admin'"},
                    "color": "#ffaa00",
                },
            },
            node("greet", value="Hello {{ fetch_user.body.name }} ({{ run.id }})"),
            node("notify", value="{{ steps['is_admin'] }} {{ run.id }}"),
            node(
                "each_tag",
                "for_each",
                items="{{ fetch_user.body.tags }}",
                step={"type": "noop", "config": {"value": "{{ index }}: {{ item }}"}},
            ),
        ],
        "edges": [
            edge("fetch_user", "is_admin", animated=True, style={"stroke": "#888"}),
            edge("is_admin", "greet", "true", targetHandle=None),
            edge("is_admin", "notify", "false"),
            edge("fetch_user", "each_tag"),
        ],
        "viewport": {"x": 0, "y": 0, "zoom": 1},
    }

    schema = {"type": "object", "properties": {"user_id": {"type": "string"}}}

    assert validate(value, input_schema=schema) == []


@pytest.mark.parametrize(
    "value", [[], "nodes", None, {"nodes": {}, "edges": []}, {"nodes": [], "edges": 3}]
)
def test_a_definition_that_is_not_nodes_and_edges_is_malformed(value: Any) -> None:
    assert "malformed_definition" in codes(validate(value))


def test_a_node_failing_its_model_is_named_by_index_and_id() -> None:
    errors = validate(definition([node("a"), {"id": "b", "data": {}}], [edge("a", "b")]))

    assert codes(errors) == ["malformed_node"]  # its edge is not dangling as well
    error = errors[0]
    assert "node #1 ('b')" in error.message
    assert error.node_id == "b"
    assert error.path == "nodes[1].type"


def test_an_edge_failing_its_model_is_named_by_index() -> None:
    edges = [edge("a", "b"), {"id": "e2", "source": "a"}, {"source": "a", "target": "b"}]
    errors = validate(definition([node("a"), node("b")], edges))

    assert [(e.code, e.path, e.edge_id) for e in errors] == [
        ("malformed_edge", "edges[1].target", "e2"),
        ("malformed_edge", "edges[2].id", None),
    ]
    assert errors[0].message == "edge #1 ('e2'): edges[1].target: Field required"
    assert errors[1].message.startswith("edge #2: ")


def test_duplicate_node_ids_are_reported() -> None:
    errors = validate(definition([node("a"), node("a", value="x")], []))

    assert only(errors, "duplicate_node_id").node_id == "a"


def test_duplicate_edge_ids_are_reported() -> None:
    nodes = [node("a"), node("b"), node("c")]
    errors = validate(definition(nodes, [edge("a", "b", id="e"), edge("a", "c", id="e")]))

    assert only(errors, "duplicate_edge_id").edge_id == "e"


@pytest.mark.parametrize("node_id", ["input", "steps", "item"])
def test_a_node_cannot_take_a_name_templates_reserve(node_id: str) -> None:
    errors = validate(definition([node(node_id)], []))

    assert f"node {node_id!r}" in only(errors, "reserved_node_id").message


def test_too_many_nodes_or_edges_are_reported_before_anything_else() -> None:
    limits = DefinitionLimits(max_nodes=2, max_edges=1)
    nodes = [node("a"), node("b"), node("c", "htp")]
    value = definition(nodes, [edge("a", "b"), edge("b", "c")])

    errors = validate(value, limits=limits)

    assert codes(errors) == ["too_many_nodes", "too_many_edges"]
    assert check_size(value, limits) == errors[0]


def test_a_definition_over_the_byte_limit_is_too_large() -> None:
    value = definition([node("a", value="x" * 2000)], [])

    error = check_size(value, DefinitionLimits(max_bytes=1000))

    assert error is not None
    assert error.code == "definition_too_large"
    assert check_size(value, DefinitionLimits(max_bytes=10_000)) is None


def test_edges_must_join_existing_nodes() -> None:
    errors = validate(definition([node("a")], [edge("a", "ghost"), edge("phantom", "a")]))

    assert "'ghost'" in only(errors, "edge_unknown_target").message
    assert only(errors, "edge_unknown_source").edge_id == "phantom->a"


def test_a_self_loop_is_a_cycle() -> None:
    errors = validate(definition([node("a"), node("b")], [edge("a", "b"), edge("b", "b")]))

    assert only(errors, "cycle").node_id == "b"


def test_a_cycle_lists_its_nodes() -> None:
    nodes = [node("start"), node("a"), node("b"), node("c")]
    edges = [edge("start", "a"), edge("a", "b"), edge("b", "c"), edge("c", "a")]

    error = only(validate(definition(nodes, edges)), "cycle")

    assert error.message == "nodes 'a', 'b', 'c' form a cycle"


def test_an_unknown_step_type_is_named() -> None:
    errors = validate(definition([node("fetch", "htp")], []))

    assert only(errors, "unknown_step_type").message == "node 'fetch': unknown step type 'htp'"


def test_each_config_error_is_reported_with_its_path() -> None:
    errors = validate(definition([node("a", retry={"max_attempts": "many"}, extra=1)], []))

    paths = {error.path for error in errors if error.code == "invalid_config"}
    assert paths == {"config.retry.max_attempts", "config.extra"}
    assert all(error.message.startswith("node 'a': config.") for error in errors)


def test_a_for_each_inner_step_type_must_be_known() -> None:
    inner = {"type": "nope", "config": {}}
    errors = validate(definition([node("each", "for_each", items="x", step=inner)], []))

    assert only(errors, "unknown_step_type").path == "config.step.type"


def test_a_for_each_inner_step_config_is_checked_against_its_type() -> None:
    inner = {"type": "noop", "config": {"retry": {"max_attempts": []}}}
    errors = validate(definition([node("each", "for_each", items="x", step=inner)], []))

    assert only(errors, "invalid_config").path == "config.step.config.retry.max_attempts"


def test_a_branch_edge_must_use_one_of_its_handles() -> None:
    nodes = [node("check", "branch", expression="input.ok"), node("yes")]
    errors = validate(definition(nodes, [edge("check", "yes", "maybe")]))

    error = only(errors, "unknown_handle")
    assert (error.node_id, error.edge_id) == ("check", "check->yes")
    assert "'maybe'" in error.message


def test_a_branch_edge_must_name_a_handle_when_required() -> None:
    nodes = [node("check", "branch", expression="input.ok"), node("yes")]
    errors = validate(definition(nodes, [edge("check", "yes")]))

    assert only(errors, "missing_handle").edge_id == "check->yes"


def test_templates_and_expressions_must_parse() -> None:
    nodes = [node("a", value="{{ input.x "), node("check", "branch", expression="input.x >")]
    errors = validate(definition(nodes, [edge("a", "check")]))

    paths = {error.path for error in errors if error.code == "template_syntax"}
    assert paths == {"config.value", "config.expression"}


def test_a_template_may_read_only_upstream_steps() -> None:
    nodes = [node("a"), node("b", value="{{ c.body }}"), node("c", value="{{ a.body }}")]
    errors = validate(definition(nodes, [edge("a", "b"), edge("a", "c")]))

    error = only(errors, "template_not_upstream")
    assert error.node_id == "b"
    assert "'b'" in error.message
    assert "'c'" in error.message


def test_a_steps_subscript_must_be_upstream_too() -> None:
    nodes = [node("a", value="{{ steps['b'].body }}"), node("b")]
    errors = validate(definition(nodes, [edge("a", "b")]))

    assert only(errors, "template_not_upstream").node_id == "a"


def test_a_step_cannot_read_its_own_output() -> None:
    errors = validate(definition([node("a", value="{{ a.body }}")], []))

    assert only(errors, "template_not_upstream").node_id == "a"


def test_names_that_are_neither_nodes_nor_reserved_are_unknown() -> None:
    nodes = [node("a"), node("b", value="{{ fetch_usr.body }} {{ steps['ghost'] }}")]
    errors = validate(definition(nodes, [edge("a", "b")]))

    messages = [error.message for error in errors if error.code == "template_unknown_name"]
    assert len(messages) == 2
    assert any("'fetch_usr'" in message for message in messages)
    assert any("'ghost'" in message for message in messages)


def test_item_and_index_exist_only_inside_a_for_each_inner_step() -> None:
    inner = {"type": "noop", "config": {"value": "{{ item }} {{ index }}"}}
    nodes = [
        node("each", "for_each", items="{{ item }}", step=inner),
        node("after", value="{{ index }}"),
    ]
    errors = validate(definition(nodes, [edge("each", "after")]))

    assert [(e.node_id, e.path) for e in errors] == [
        ("each", "config.items"),
        ("after", "config.value"),
    ]
    assert codes(errors) == ["template_unknown_name"] * 2


def test_a_node_with_no_path_from_a_start_node_is_unreachable() -> None:
    nodes = [node("start"), node("loop_a"), node("loop_b"), node("stranded")]
    edges = [edge("loop_a", "loop_b"), edge("loop_b", "loop_a"), edge("loop_b", "stranded")]

    errors = validate(definition(nodes, edges))

    assert codes(errors) == ["cycle", "unreachable_node"]
    assert only(errors, "unreachable_node").node_id == "stranded"


def test_several_start_nodes_are_allowed() -> None:
    nodes = [node("a"), node("b"), node("joined")]

    assert validate(definition(nodes, [edge("a", "joined"), edge("b", "joined")])) == []


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [
        ({"type": "strng"}, "input_schema.type"),
        ({"properties": {"x": {"minLength": -1}}}, "minLength"),
        (["not", "an", "object"], "JSON object"),
        (True, "JSON object"),
    ],
)
def test_an_input_schema_must_be_a_json_schema_object(schema: Any, fragment: str) -> None:
    errors = validate(definition([node("a")], []), input_schema=schema)

    assert fragment in only(errors, "invalid_input_schema").message


def test_an_empty_workflow_is_reported() -> None:
    assert codes(validate(definition([], []))) == ["empty_workflow"]
    assert codes(validate({})) == ["empty_workflow"]


def test_every_error_is_reported_together() -> None:
    nodes = [
        node("fetch", "htp"),
        node("fetch"),
        node("check", "branch", expression="{{ later.ok }}"),
        node("later", retry={"max_attempts": "x"}),
    ]
    edges = [edge("fetch", "check"), edge("check", "later", "maybe"), edge("later", "nowhere")]

    errors = validate(definition(nodes, edges), input_schema={"type": 5})

    assert set(codes(errors)) == {
        "invalid_input_schema",
        "duplicate_node_id",
        "edge_unknown_target",
        "unknown_step_type",
        "template_not_upstream",
        "unknown_handle",
        "invalid_config",
    }


def test_an_error_converts_to_a_plain_dict() -> None:
    error = DefinitionError("cycle", "node 'a' has an edge to itself, a cycle", node_id="a")

    assert error.to_dict() == {
        "code": "cycle",
        "message": "node 'a' has an edge to itself, a cycle",
        "node_id": "a",
        "edge_id": None,
        "path": None,
    }


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("timeout_seconds", 0),
        ("timeout_seconds", "10"),
        # Past any date a run's deadline could hold.
        ("timeout_seconds", 1e15),
        ("timeout_seconds", 10**20),
        ("max_concurrency", 1.5),
        ("max_concurrency", True),
    ],
)
def test_run_settings_must_be_positive_numbers(setting: str, value: object) -> None:
    definition = {"nodes": [], "edges": [], setting: value}

    errors = validate_definition(definition, {})

    assert [(e.code, e.path) for e in errors if e.code == "invalid_setting"] == [
        ("invalid_setting", setting)
    ]


def test_run_settings_that_are_right_pass() -> None:
    definition = {"nodes": [], "edges": [], "timeout_seconds": 2.5, "max_concurrency": 4}

    assert not [e for e in validate_definition(definition, {}) if e.code == "invalid_setting"]


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [
        ({"$ref": "#/$defs/missing"}, "points to nothing"),
        ({"properties": {"x": {"items": {"$ref": "#/nowhere"}}}}, "points to nothing"),
        ({"$ref": "https://schemas.example.com/order.json"}, "never fetched"),
        ({"$ref": "order.json"}, "never fetched"),
    ],
)
def test_every_ref_of_an_input_schema_must_lead_somewhere_inside_it(
    schema: dict[str, Any], fragment: str
) -> None:
    errors = validate(definition([node("a")], []), input_schema=schema)

    error = only(errors, "invalid_input_schema")
    assert (error.path, error.node_id) == ("input_schema", None)
    assert fragment in error.message
