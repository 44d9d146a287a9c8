"""A run's input is checked against its workflow's input_schema, offline."""

from __future__ import annotations

import pytest

from towpath.domain.json_schema import offline_validator
from towpath.engine.lifecycle import InputInvalid, check_input


def test_a_schema_that_points_nowhere_refuses_the_input_instead_of_failing() -> None:
    # Published before references were checked at validation, say.
    validator = offline_validator({"$ref": "#/$defs/missing"})

    with pytest.raises(InputInvalid) as refused:
        check_input(validator, {})

    assert refused.value.details["errors"][0]["path"] == "/"
    assert "cannot be checked" in refused.value.details["errors"][0]["message"]


def test_a_remote_reference_refuses_the_input() -> None:
    validator = offline_validator({"$ref": "https://schemas.example.com/order.json"})

    with pytest.raises(InputInvalid):
        check_input(validator, {"id": 1})


def test_every_failing_path_is_named() -> None:
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer"}, "s": {"type": "string"}},
        "required": ["n"],
    }
    with pytest.raises(InputInvalid) as refused:
        check_input(offline_validator(schema), {"s": 1})

    assert [e["path"] for e in refused.value.details["errors"]] == ["/", "/s"]
