"""JSON Schemas users write resolve every `$ref` within themselves and fetch nothing."""

from __future__ import annotations

from typing import Any

import pytest
from referencing.exceptions import Unresolvable

from towpath.domain.json_schema import dangling_references, offline_validator


@pytest.mark.parametrize(
    "schema",
    [
        {"$defs": {"name": {"type": "string"}}, "properties": {"n": {"$ref": "#/$defs/name"}}},
        {"$defs": {"a": {"$anchor": "here"}}, "$ref": "#here"},
        {
            "$id": "https://example.test/order",
            "$defs": {"line": {"$id": "line.json", "type": "object"}},
            "properties": {"line": {"$ref": "line.json"}, "again": {"$ref": "#"}},
        },
        {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "definitions": {"a": {"type": "integer"}},
            "items": {"$ref": "#/definitions/a"},
        },
        # The metaschemas are known without fetching them.
        {"$ref": "https://json-schema.org/draft/2020-12/schema"},
        # `$ref` inside a const or an enum is data, not a reference.
        {"const": {"$ref": "#/nowhere"}, "enum": [{"$ref": "elsewhere.json"}]},
    ],
)
def test_references_within_the_schema_resolve(schema: dict[str, Any]) -> None:
    assert dangling_references(schema) == []


def test_each_dangling_reference_is_named() -> None:
    schema = {
        "properties": {"a": {"$ref": "#/$defs/a"}, "b": {"$ref": "https://example.test/b.json"}}
    }

    problems = dangling_references(schema)

    assert len(problems) == 2
    assert "'#/$defs/a' points to nothing" in problems[0]
    assert "'https://example.test/b.json' is not in this schema" in problems[1]


def test_the_offline_validator_never_fetches_a_reference() -> None:
    validator = offline_validator({"$ref": "https://example.test/order.json"})

    with pytest.raises(Unresolvable):
        validator.validate({})


def test_the_offline_validator_checks_formats_when_asked() -> None:
    schema = {"type": "string", "format": "email"}

    assert offline_validator(schema).is_valid("not an address")
    assert not offline_validator(schema, check_formats=True).is_valid("not an address")
