"""Checks of a workflow definition before it is saved or published, reporting every error."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ValidationError

from towpath.domain.definition import Edge, Node, flow_control_problems
from towpath.domain.graph import Graph, walk
from towpath.domain.json_schema import check_schema, dangling_references, pattern_problems
from towpath.domain.secrets import SECRET_CAPABLE, SECRET_NAMING
from towpath.domain.step_spec import AS_WRITTEN
from towpath.domain.templates import (
    RESERVED_NAMES,
    TemplateError,
    referenced_names,
    referenced_secrets,
    referenced_steps,
    template_strings,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from towpath.domain.step_spec import StepSpec

# The step type whose config holds an inner step, `{"step": {"type", "config"}}`.
FOR_EACH_TYPE = "for_each"
_LOOP_NAMES = frozenset({"item", "index"})

_Item = TypeVar("_Item", Node, Edge)


@dataclass(frozen=True)
class DefinitionError:
    """One problem of a definition, with the node, edge and config path it is about."""

    code: str
    message: str
    node_id: str | None = None
    edge_id: str | None = None
    path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DefinitionLimits:
    """The largest definition that is checked at all; they bound validation's own work."""

    max_nodes: int = 500
    max_edges: int = 2000
    max_bytes: int = 1024 * 1024


DEFAULT_DEFINITION_LIMITS = DefinitionLimits()


def _json_path(prefix: str, loc: Iterable[str | int]) -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else part
    return path


def _size_errors(definition: Any, limits: DefinitionLimits) -> list[DefinitionError]:
    try:
        encoded = json.dumps(definition, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        return [DefinitionError("malformed_definition", "definition is not JSON data")]
    errors = []
    if (size := len(encoded.encode())) > limits.max_bytes:
        message = f"definition is {size} bytes, more than the limit of {limits.max_bytes}"
        errors.append(DefinitionError("definition_too_large", message))
    counted = definition if isinstance(definition, dict) else {}
    for key, code, most in (
        ("nodes", "too_many_nodes", limits.max_nodes),
        ("edges", "too_many_edges", limits.max_edges),
    ):
        items = counted.get(key)
        if isinstance(items, list) and len(items) > most:
            message = f"definition has {len(items)} {key}, more than the limit of {most}"
            errors.append(DefinitionError(code, message))
    return errors


def check_size(
    definition: Any, limits: DefinitionLimits = DEFAULT_DEFINITION_LIMITS
) -> DefinitionError | None:
    """The cheap first check: a definition too big to validate, or None."""
    errors = _size_errors(definition, limits)
    return errors[0] if errors else None


# --- reading nodes and edges -----------------------------------------------------------


def _raw_id(raw: Any) -> str | None:
    raw_id = raw.get("id") if isinstance(raw, dict) else None
    return raw_id if isinstance(raw_id, str) and raw_id else None


def _node_ids(raw_nodes: list[Any]) -> list[str]:
    """Ids in definition order, once each. A node that failed its model keeps its place in
    the graph, so its edges are not reported as dangling too."""
    ids = (_raw_id(raw) for raw in raw_nodes)
    return list(dict.fromkeys(node_id for node_id in ids if node_id is not None))


def _label(kind: str, index: int, raw: Any) -> str:
    raw_id = _raw_id(raw)
    return f"{kind} #{index} ({raw_id!r})" if raw_id else f"{kind} #{index}"


def _parsed_items(
    raws: list[Any], model: type[_Item], kind: str, errors: list[DefinitionError]
) -> list[_Item]:
    parsed = []
    for index, raw in enumerate(raws):
        try:
            parsed.append(model.model_validate(raw))
        except ValidationError as exc:
            raw_id = _raw_id(raw)
            for problem in exc.errors():
                path = _json_path(f"{kind}s[{index}]", problem["loc"])
                message = f"{_label(kind, index, raw)}: {path}: {problem['msg']}"
                owner = {"node_id" if kind == "node" else "edge_id": raw_id}
                errors.append(DefinitionError(f"malformed_{kind}", message, path=path, **owner))
    return parsed


def _raw_list(definition: dict[str, Any], key: str, errors: list[DefinitionError]) -> list[Any]:
    raws = definition.get(key, [])
    if isinstance(raws, list):
        return raws
    errors.append(DefinitionError("malformed_definition", f"definition's {key} must be a list"))
    return []


def _identity_errors(nodes: list[Node], edges: list[Edge]) -> Iterator[DefinitionError]:
    seen_nodes: set[str] = set()
    for node in nodes:
        if node.id in seen_nodes:
            yield DefinitionError(
                "duplicate_node_id", f"node {node.id!r}: another node has this id", node.id
            )
        seen_nodes.add(node.id)
        if node.id in RESERVED_NAMES:
            message = f"node {node.id!r}: this id is reserved for templates"
            yield DefinitionError("reserved_node_id", message, node.id)
    seen_edges: set[str] = set()
    for edge in edges:
        if edge.id in seen_edges:
            message = f"edge {edge.id!r}: another edge has this id"
            yield DefinitionError("duplicate_edge_id", message, edge_id=edge.id)
        seen_edges.add(edge.id)


# --- the graph -------------------------------------------------------------------------


def _connected_edges(
    edges: list[Edge], node_ids: set[str], errors: list[DefinitionError]
) -> list[Edge]:
    connected = []
    for edge in edges:
        for end, code in (
            (edge.source, "edge_unknown_source"),
            (edge.target, "edge_unknown_target"),
        ):
            if end not in node_ids:
                message = f"edge {edge.id!r}: {end!r} is not a node"
                errors.append(DefinitionError(code, message, edge_id=edge.id))
        if edge.source in node_ids and edge.target in node_ids:
            connected.append(edge)
    return connected


def _cycle_errors(graph: Graph) -> tuple[list[DefinitionError], set[str]]:
    """One error per group of nodes that reach each other; at most max_nodes walks."""
    descendants = {n: walk(n, graph.children, include_start=False) for n in graph.node_ids}
    errors, in_cycles = [], set()
    for node_id in graph.node_ids:
        if node_id in in_cycles or node_id not in descendants[node_id]:
            continue
        members = [
            n for n in graph.node_ids if n in descendants[node_id] and node_id in descendants[n]
        ]
        in_cycles.update(members)
        if len(members) == 1:
            message = f"node {node_id!r} has an edge to itself, a cycle"
        else:
            message = f"nodes {', '.join(map(repr, members))} form a cycle"
        errors.append(DefinitionError("cycle", message, node_id))
    return errors, in_cycles


def _unreachable_errors(graph: Graph, in_cycles: set[str]) -> Iterator[DefinitionError]:
    reachable: set[str] = set()
    for root in (node_id for node_id in graph.node_ids if not graph.parents[node_id]):
        reachable |= walk(root, graph.children, include_start=True)
    for node_id in graph.node_ids:
        if node_id not in reachable and node_id not in in_cycles:
            message = f"node {node_id!r} is unreachable: no path leads to it from a start node"
            yield DefinitionError("unreachable_node", message, node_id)


# --- step configs and templates --------------------------------------------------------


@dataclass(frozen=True)
class _TemplateScope:
    """What the templates of one node may read."""

    node_id: str
    node_ids: frozenset[str]
    ancestors: frozenset[str]
    in_for_each: bool = False
    # The workspace's secret names; None when the check of names is left out.
    secrets: frozenset[str] | None = None


def _config_errors(
    node_id: str, spec: StepSpec, config: Any, path: str
) -> tuple[BaseModel | None, list[DefinitionError]]:
    try:
        return spec.config_model.model_validate(config, context=AS_WRITTEN), []
    except ValidationError as exc:
        errors = []
        for problem in exc.errors():
            where = _json_path(path, problem["loc"])
            message = f"node {node_id!r}: {where}: {problem['msg']}"
            errors.append(DefinitionError("invalid_config", message, node_id, path=where))
        return None, errors


def _reference_errors(
    text: str, path: str, scope: _TemplateScope, *, expression: bool
) -> Iterator[DefinitionError]:
    node_id, where = scope.node_id, f"node {scope.node_id!r}: {path}"
    try:
        names = referenced_names(text, expression=expression)
        steps = referenced_steps(text, expression=expression)
    except TemplateError as exc:
        yield DefinitionError(exc.code, f"{where}: {exc}", node_id, path=path)
        return
    unknown = [
        f"{name!r} is neither a node id nor a template name"
        for name in sorted(names - RESERVED_NAMES - scope.node_ids)
    ]
    if not scope.in_for_each:
        unknown += [
            f"{name!r} exists only in a for_each's inner step"
            for name in sorted(names & _LOOP_NAMES)
        ]
    unknown += [f"steps[{step!r}] is not a node" for step in sorted(steps - names - scope.node_ids)]
    for problem in unknown:
        yield DefinitionError("template_unknown_name", f"{where}: {problem}", node_id, path=path)
    for step in sorted((steps & scope.node_ids) - scope.ancestors):
        message = f"{where}: reads node {step!r}, which does not run before it"
        yield DefinitionError("template_not_upstream", message, node_id, path=path)


def _marked(spec: StepSpec | None, key: str, mark: str) -> bool:
    field = spec.config_model.model_fields.get(key) if spec is not None else None
    extra = field.json_schema_extra if field is not None else None
    return isinstance(extra, dict) and extra.get(mark) is True


def _secret_errors(
    text: str, path: str, scope: _TemplateScope, *, capable: bool, expression: bool
) -> Iterator[DefinitionError]:
    """Secrets are read only in fields marked secret-capable, and only ones that exist."""
    try:
        names = referenced_secrets(text, expression=expression)
    except TemplateError as exc:
        if exc.code == "secret_not_by_name":
            yield DefinitionError(
                exc.code, f"node {scope.node_id!r}: {path}: {exc}", scope.node_id, path=path
            )
        return  # any other problem of the template, _reference_errors reports
    if names and not capable:
        message = (
            f"node {scope.node_id!r}: {path}: secrets may be read only in a secret-capable"
            " field (headers, auth, URL)"
        )
        yield DefinitionError("secret_not_allowed", message, scope.node_id, path=path)
    yield from _unknown_secrets(names, path, scope)


def _unknown_secrets(
    names: set[str], path: str, scope: _TemplateScope
) -> Iterator[DefinitionError]:
    for name in sorted(names - scope.secrets if scope.secrets is not None else set()):
        message = f"node {scope.node_id!r}: {path}: no secret named {name!r} in this workspace"
        yield DefinitionError("unknown_secret", message, scope.node_id, path=path)


def _template_errors(
    config: dict[str, Any],
    path: str,
    spec: StepSpec | None,
    scope: _TemplateScope,
    *,
    inner: str | None,
) -> Iterator[DefinitionError]:
    """Templates of a config; `inner` names the key holding a for_each's inner step."""
    expressions = set(spec.expression_fields) if spec is not None else set()
    for key, value in config.items():
        where = f"{path}.{key}"
        capable = _marked(spec, key, SECRET_CAPABLE)
        if key in expressions and isinstance(value, str):
            yield from _reference_errors(value, where, scope, expression=True)
            yield from _secret_errors(value, where, scope, capable=capable, expression=True)
        elif key != inner:
            for text_path, text in template_strings(value, where):
                yield from _reference_errors(text, text_path, scope, expression=False)
                yield from _secret_errors(text, text_path, scope, capable=capable, expression=False)
            if _marked(spec, key, SECRET_NAMING) and isinstance(value, str):
                yield from _unknown_secrets({value}, where, scope)


def _step_errors(
    step_type: str,
    config: dict[str, Any],
    prefix: str,
    specs: Mapping[str, StepSpec],
    scope: _TemplateScope,
) -> tuple[BaseModel | None, list[DefinitionError]]:
    """Type, config and templates of a node's step, or (`prefix` "config.step.") the
    inner step of its for_each."""
    node_id, errors, model = scope.node_id, [], None
    path = f"{prefix}config"
    spec = specs.get(step_type)
    if spec is None:
        message = f"node {node_id!r}: unknown step type {step_type!r}"
        errors.append(DefinitionError("unknown_step_type", message, node_id, path=f"{prefix}type"))
    else:
        model, config_errors = _config_errors(node_id, spec, config, path)
        errors.extend(config_errors)
    inner = "step" if step_type == FOR_EACH_TYPE else None
    errors.extend(_template_errors(config, path, spec, scope, inner=inner))
    if inner is not None:
        errors.extend(_inner_step_errors(config.get(inner), f"{path}.{inner}.", specs, scope))
    return model, errors


def _inner_step_errors(
    inner_step: Any, prefix: str, specs: Mapping[str, StepSpec], scope: _TemplateScope
) -> list[DefinitionError]:
    """The step a for_each runs per item; its shape is the for_each config model's to check."""
    if not isinstance(inner_step, dict) or not isinstance(inner_step.get("type"), str):
        return []
    config = inner_step.get("config", {})
    if not isinstance(config, dict):
        return []
    loop_scope = replace(scope, in_for_each=True)
    return _step_errors(inner_step["type"], config, prefix, specs, loop_scope)[1]


def _handle_errors(
    node: Node, spec: StepSpec, config: BaseModel, graph: Graph
) -> Iterator[DefinitionError]:
    handles = spec.branch_handles(config)
    if handles is None:
        return
    listed = ", ".join(repr(handle) for handle in sorted(handles))
    for edge in graph.outgoing(node.id):
        if edge.sourceHandle is None and spec.handle_required():
            message = f"edge {edge.id!r}: leaves node {node.id!r} without a handle ({listed})"
            yield DefinitionError("missing_handle", message, node.id, edge.id)
        elif edge.sourceHandle is not None and edge.sourceHandle not in handles:
            message = (
                f"edge {edge.id!r}: node {node.id!r} has no handle {edge.sourceHandle!r}"
                f" (it has {listed})"
            )
            yield DefinitionError("unknown_handle", message, node.id, edge.id)


def _node_errors(
    node: Node, specs: Mapping[str, StepSpec], graph: Graph, secrets: frozenset[str] | None
) -> list[DefinitionError]:
    scope = _TemplateScope(
        node.id,
        frozenset(graph.node_ids),
        frozenset(walk(node.id, graph.parents, include_start=False)),
        secrets=secrets,
    )
    model, errors = _step_errors(node.type, node.config, "", specs, scope)
    spec = specs.get(node.type)
    if spec is not None and model is not None:
        errors.extend(_handle_errors(node, spec, model, graph))
    return errors


def _input_schema_errors(schema: Any) -> list[DefinitionError]:
    if schema is None:
        return []
    if not isinstance(schema, dict):
        return [DefinitionError("invalid_input_schema", "input schema must be a JSON object")]
    if not isinstance(schema.get("$schema", ""), str):
        return [DefinitionError("invalid_input_schema", "input schema: $schema must be a string")]
    patterns = []
    for json_path, problem in pattern_problems(schema):
        path = "input_schema" + json_path.removeprefix("$")
        message = f"input schema: {path}: {problem}"
        patterns.append(DefinitionError("invalid_input_schema", message, path=path))
    if patterns:
        return patterns
    try:
        # An unknown $schema is read as the latest draft rather than refused.
        check_schema(schema)
    except SchemaError as exc:
        path = "input_schema" + exc.json_path.removeprefix("$")
        message = f"input schema: {path}: {exc.message}"
        return [DefinitionError("invalid_input_schema", message, path=path)]
    return [
        DefinitionError("invalid_input_schema", f"input schema: {problem}", path="input_schema")
        for problem in dangling_references(schema)
    ]


def validate_definition(
    definition: Any,
    specs: Mapping[str, StepSpec],
    *,
    input_schema: Any = None,
    limits: DefinitionLimits = DEFAULT_DEFINITION_LIMITS,
    secrets: frozenset[str] | None = None,
) -> list[DefinitionError]:
    """Every problem of a definition; an empty list means it can be published. `secrets`
    names the workspace's secrets: a template reading another is an error.

    A definition over the size limits is not looked into further.
    """
    schema_errors = _input_schema_errors(input_schema)
    size_errors = _size_errors(definition, limits)
    if size_errors:
        return size_errors + schema_errors
    if not isinstance(definition, dict):
        message = "definition must be a JSON object"
        return [DefinitionError("malformed_definition", message), *schema_errors]
    graph_errors = _graph_errors(definition, specs, secrets)
    return graph_errors + _setting_errors(definition) + schema_errors


# Run-wide settings a definition may carry beside its nodes and edges.
# A run's deadline is its start plus its timeout: far more than any run needs, and well
# inside the dates a database and Python can hold.
MAX_RUN_TIMEOUT_SECONDS = 10 * 366 * 24 * 60 * 60
_SETTINGS = {
    "timeout_seconds": f"a number of seconds greater than 0, at most {MAX_RUN_TIMEOUT_SECONDS}",
    "max_concurrency": "a whole number greater than 0",
}


def _setting_errors(definition: dict[str, Any]) -> list[DefinitionError]:
    errors = []
    for name, wanted in _SETTINGS.items():
        value = definition.get(name)
        if value is None:
            continue
        whole = isinstance(value, int) and not isinstance(value, bool)
        number = whole or isinstance(value, float)
        too_long = name == "timeout_seconds" and number and value > MAX_RUN_TIMEOUT_SECONDS
        if not (whole if name == "max_concurrency" else number) or value <= 0 or too_long:
            message = f"{name} must be {wanted}, not {value!r}"
            errors.append(DefinitionError("invalid_setting", message, path=name))
    for path, problem in flow_control_problems(definition):
        errors.append(DefinitionError("invalid_setting", f"{path}: {problem}", path=path))
    return errors


def _graph_errors(
    definition: dict[str, Any], specs: Mapping[str, StepSpec], secrets: frozenset[str] | None
) -> list[DefinitionError]:
    errors: list[DefinitionError] = []
    raw_nodes = _raw_list(definition, "nodes", errors)
    nodes = _parsed_items(raw_nodes, Node, "node", errors)
    edges = _parsed_items(_raw_list(definition, "edges", errors), Edge, "edge", errors)
    errors.extend(_identity_errors(nodes, edges))
    if not raw_nodes:
        errors.append(DefinitionError("empty_workflow", "the workflow has no nodes"))
    node_ids = _node_ids(raw_nodes)
    graph = Graph.of(node_ids, _connected_edges(edges, set(node_ids), errors))
    cycle_errors, in_cycles = _cycle_errors(graph)
    errors.extend(cycle_errors)
    errors.extend(_unreachable_errors(graph, in_cycles))
    first_of_each_id: dict[str, Node] = {}
    for node in nodes:
        first_of_each_id.setdefault(node.id, node)
    for node in first_of_each_id.values():
        errors.extend(_node_errors(node, specs, graph, secrets))
    return errors
