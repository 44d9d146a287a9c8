"""What a template does that the sandbox would refuse when it runs, found in its syntax
tree before it ever runs: Python internals, loading other templates, changing data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jinja2 import nodes

if TYPE_CHECKING:
    from collections.abc import Iterator

# Jinja's own globals and loop objects: never run data, so nothing private of theirs is a key.
JINJA_OBJECTS = frozenset({"range", "lipsum", "cycler", "joiner", "namespace", "loop", "self"})

# Values that are never a JSON object: reading `_x` of one reaches a Python attribute.
_NOT_OBJECTS = (
    nodes.Const,
    nodes.TemplateData,
    nodes.List,
    nodes.Tuple,
    nodes.Concat,
    nodes.BinExpr,
    nodes.UnaryExpr,
    nodes.Compare,
)

# Methods that change a list, dict or set in place; the immutable sandbox refuses them all.
_MUTATING_METHODS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "pop",
        "popitem",
        "remove",
        "clear",
        "update",
        "setdefault",
        "add",
        "discard",
        "difference_update",
        "intersection_update",
        "symmetric_difference_update",
        "reverse",
        "sort",
    }
)

# Filters reading an attribute named by their first argument, e.g. `attr('x')`; the others
# that read one take it as `attribute='x'`.
_ATTRIBUTE_FIRST = frozenset({"attr", "selectattr", "rejectattr", "groupby"})

_LOADS: dict[type[nodes.Node], str] = {
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from ... import %}",
    nodes.Extends: "{% extends %}",
}

# Names of run data: calling one calls JSON data.
_DATA_NAMES = frozenset({"input", "secrets", "steps", "run", "item", "index"})


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _root(node: nodes.Node) -> nodes.Node:
    """Where a chain like `input.a['b'].c()` or `x | first` starts."""
    while isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Call | nodes.Filter):
        if node.node is None:  # a `{% filter %}` block's filter filters the block
            break
        node = node.node
    return node


def _may_be_object(node: nodes.Node) -> bool:
    """Whether `node` may give a JSON object, where `_id` is a key like any other."""
    root = _root(node)
    if isinstance(root, nodes.Name):
        return root.name not in JINJA_OBJECTS
    return not isinstance(root, _NOT_OBJECTS)


def _name_problem(name: str, target: nodes.Node) -> str | None:
    if _is_dunder(name):
        return f"reads {name!r}, a Python internal: a template reads run data only"
    if name.startswith("_") and not _may_be_object(target):
        return f"reads {name!r}, a private attribute: a template reads run data only"
    return None


def _attribute_names(node: nodes.Filter) -> Iterator[str]:
    """The attribute paths a filter is told to read, split at their dots."""
    named = [node.args[0]] if node.name in _ATTRIBUTE_FIRST and node.args else []
    named += [pair.value for pair in node.kwargs if pair.key == "attribute"]
    for argument in named:
        if isinstance(argument, nodes.Const) and isinstance(argument.value, str):
            yield from argument.value.split(".")


def _node_problem(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Getattr):
        return _name_problem(node.attr, node.node)
    if isinstance(node, nodes.Getitem):
        key = node.arg
        if isinstance(key, nodes.Const) and isinstance(key.value, str):
            return _name_problem(key.value, node.node)
    elif isinstance(node, nodes.NSRef) and node.attr.startswith("_"):
        return f"sets {node.attr!r}, a private attribute: a template reads run data only"
    elif isinstance(node, nodes.Filter) and node.node is not None:
        for name in _attribute_names(node):
            if (problem := _name_problem(name, node.node)) is not None:
                return problem
    elif isinstance(node, nodes.Call):
        return _call_problem(node)
    elif isinstance(node, nodes.Name) and node.name == "self" and node.ctx == "load":
        return "reads 'self': a template reads run data only"
    elif type(node) in _LOADS:
        return f"uses {_LOADS[type(node)]}: a template cannot load another template"
    return None


def _call_problem(node: nodes.Call) -> str | None:
    callee = node.node
    if isinstance(callee, nodes.Getattr) and callee.attr in _MUTATING_METHODS:
        return f"calls {callee.attr!r}, which would change data in place: a template cannot"
    if isinstance(callee, nodes.Name) and callee.name in _DATA_NAMES:
        return f"calls {callee.name!r}, which is run data, not a function"
    return None


def refused_use(tree: nodes.Template) -> str | None:
    """What the first thing in `tree` the sandbox refuses does, or None."""
    for node in tree.find_all(nodes.Node):
        if (problem := _node_problem(node)) is not None:
            return problem
    return None


def _secret_name(node: nodes.Node) -> str | None:
    """NAME, when `node` is `secrets.NAME` or `secrets['NAME']`."""
    if not isinstance(node, nodes.Getattr | nodes.Getitem):
        return None
    target = node.node
    if not (isinstance(target, nodes.Name) and target.name == "secrets"):
        return None
    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        return node.arg.value
    return None


def secret_reads(tree: nodes.Template) -> tuple[set[str], bool]:
    """The secret names `tree` reads as `secrets.NAME` or `secrets['NAME']`, and whether it
    reads `secrets` any other way (a name from data, the whole mapping)."""
    named = [
        name
        for node in tree.find_all((nodes.Getattr, nodes.Getitem))
        if (name := _secret_name(node)) is not None
    ]
    loads = sum(
        1 for node in tree.find_all(nodes.Name) if node.name == "secrets" and node.ctx == "load"
    )
    # Each named read holds one `secrets`; any `secrets` beyond those is read otherwise.
    return set(named), loads > len(named)
