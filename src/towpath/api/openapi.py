"""The OpenAPI document: what FastAPI writes, then the rules it cannot see from the routes.

A parameter is text or absent, never JSON null; and no text of a request may hold a NUL
character (`RequestDataMiddleware` refuses it): every string and key the document types
says so. The strings and keys inside free-form JSON values (a run's input, a step's
config) are held to the same rule, which the document states in words: saying it as a
schema takes a recursive one, which client generators cannot read.
"""

from __future__ import annotations

import copy
from collections import Counter
from typing import TYPE_CHECKING, Any

from fastapi.openapi.utils import get_openapi

if TYPE_CHECKING:
    from collections.abc import Hashable

    from fastapi import FastAPI
    from fastapi.routing import APIRoute

    from towpath.domain.validation import DefinitionLimits

Schema = dict[str, Any]

NO_NUL = "^[^\\x00]*$"
TEXT_RULE = (
    "No text in a request, a string or a key at any depth, may hold a NUL character"
    " (`\\u0000`): such a request is refused with 422."
)
# Keys under which a schema holds other schemas, one or a list of them.
_ONE = ("items", "not", "contains", "additionalProperties")
_MANY = ("anyOf", "oneOf", "allOf", "prefixItems")


def operation_id(route: APIRoute) -> str:
    """An operation's id is its route's name: `create_workflow`, `start_run`."""
    return route.name


def check_operation_ids(document: Schema) -> None:
    """Two operations of one name would be two functions of one name in a generated
    client: the document is refused (and a test builds it)."""
    names = Counter(op["operationId"] for op in _operations(document))
    duplicates = sorted(name for name, count in names.items() if count > 1)
    if duplicates:
        raise RuntimeError(f"operations share a name: {', '.join(duplicates)}")


def openapi_document(app: FastAPI, limits: DefinitionLimits) -> Schema:
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=f"{app.description}\n\n{TEXT_RULE}",
        routes=app.routes,
    )
    check_operation_ids(document)
    components: dict[str, Schema] = document.get("components", {}).get("schemas", {})
    seen: set[str] = set()
    for operation in _operations(document):
        for parameter in operation.get("parameters", []):
            parameter["schema"] = _text(_without_null(parameter["schema"]), components, seen)
        for media in operation.get("requestBody", {}).get("content", {}).values():
            media["schema"] = _text(media["schema"], components, seen)
    _bound_definitions(components, limits)
    return document


# Documents built for an app's routes, by what they were built from: building one takes a
# third of a second, and each new app's first request needs it (for its metrics' route
# templates), so an app made again (each test makes one) reads the one already built.
_documents: dict[Hashable, Schema] = {}


def install_openapi(app: FastAPI, limits: DefinitionLimits, routes_key: Hashable = None) -> None:
    """`routes_key` names the routes the app was given (None: the app's own, not shared);
    the routes it has when the document is first asked for are counted in the key too."""

    def openapi() -> Schema:
        if app.openapi_schema is None:
            key = None if routes_key is None else (routes_key, len(app.routes), limits)
            shared = _documents.get(key) if key is not None else None
            if shared is None:
                shared = openapi_document(app, limits)
                if key is not None:
                    _documents[key] = shared
            # A copy: whatever one app does to its document stays its own.
            app.openapi_schema = copy.deepcopy(shared)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _operations(document: Schema) -> list[Schema]:
    return [op for path in document.get("paths", {}).values() for op in path.values()]


def _without_null(schema: Schema) -> Schema:
    """A parameter's schema without its `null` branch: a parameter left out is absent."""
    branches = schema.get("anyOf")
    if not branches:
        return schema
    kept = [branch for branch in branches if branch.get("type") != "null"]
    if len(kept) != 1:
        return {**schema, "anyOf": kept}
    merged = {key: value for key, value in schema.items() if key != "anyOf"}
    return {**kept[0], **merged}


def _text(schema: Schema, components: dict[str, Schema], seen: set[str]) -> Schema:
    """The schema with the text rule stated on every string and key it types."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen and name in components:
            seen.add(name)
            components[name] = _text(components[name], components, seen)
        return schema
    fixed = dict(schema)
    if fixed.get("type") == "string" and not {"pattern", "enum", "const", "format"} & set(fixed):
        fixed["pattern"] = NO_NUL
    if fixed.get("type") == "object" and fixed.get("additionalProperties") is not False:
        fixed["propertyNames"] = {"pattern": NO_NUL}
    for key in _ONE:
        if isinstance(fixed.get(key), dict):
            fixed[key] = _text(fixed[key], components, seen)
    for key in _MANY:
        if isinstance(fixed.get(key), list):
            fixed[key] = [_text(branch, components, seen) for branch in fixed[key]]
    if "properties" in fixed:
        fixed["properties"] = {
            name: _text(child, components, seen) for name, child in fixed["properties"].items()
        }
    return fixed


def _bound_definitions(components: dict[str, Schema], limits: DefinitionLimits) -> None:
    """A definition's node and edge counts have limits of this server's settings."""
    definition = components.get("WorkflowDefinition", {}).get("properties", {})
    for key, most in (("nodes", limits.max_nodes), ("edges", limits.max_edges)):
        if key in definition:
            definition[key]["maxItems"] = most
