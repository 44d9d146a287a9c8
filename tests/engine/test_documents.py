"""Which documents a step may hand back: what every database stores and the API reads."""

from __future__ import annotations

from typing import Any

import pytest

from towpath.engine.documents import MAX_DEPTH, unstorable


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"a": "x\x00y"}, "output.a holds a NUL character"),
        ({"k\x00": 1}, "a key in output holds a NUL character"),
        ({"a": [1, float("nan")]}, "output.a[1] is nan"),
        ({"a": float("-inf")}, "output.a is -inf"),
        ({"a": "\ud800"}, "output.a holds a lone surrogate"),
        ({"a": _nested(MAX_DEPTH + 1)}, f"output is nested deeper than {MAX_DEPTH} levels"),
        ({"a": {1, 2}}, "output.a is a set, not JSON"),
    ],
)
def test_what_cannot_be_stored_is_named(value: Any, problem: str) -> None:
    found = unstorable(value, "output")
    assert found is not None
    assert found.startswith(problem), found


@pytest.mark.parametrize(
    "value",
    [
        None,
        {"text": "ünïcödé ✓", "n": 1.5, "b": True, "list": [1, "2", None]},
        {"escaped": "a\\u0000b"},  # a backslash and the letters u0000: text, not a NUL
        _nested(MAX_DEPTH - 1),
        [{"a": [1]} for _ in range(200)],  # many brackets, none of them deep
    ],
)
def test_json_documents_can_be_stored(value: Any) -> None:
    assert unstorable(value, "output") is None
