"""The checks every JSON request body goes through before any route reads it."""

from __future__ import annotations

import json

import pytest

from towpath.domain.json_data import MAX_JSON_DEPTH, json_body_problem


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("body", "kind", "loc"),
    [
        (b'{"x": NaN}', "not_json_number", ["body"]),
        (b'{"x": [1, -Infinity]}', "not_json_number", ["body"]),
        (b'{"x": 1e400}', "number_out_of_range", ["body"]),
        (b'{"x": [0.5, -1.5E999]}', "number_out_of_range", ["body"]),
        (b'{"a": {"b": ["ok", "x\\u0000y"]}}', "nul_character", ["body", "a", "b", 1]),
        (b'{"a": {"k\\u0000": 1}}', "nul_character", ["body", "a"]),
        (b'{"a": "\\ud800"}', "lone_surrogate", ["body", "a"]),
        (b'{"a": "\\udc00x"}', "lone_surrogate", ["body", "a"]),
        (_nested(MAX_JSON_DEPTH + 1).encode(), "too_deep", ["body", *[0] * MAX_JSON_DEPTH]),
        (_nested(100_000).encode(), "too_deep", ["body"]),
    ],
)
def test_a_body_unfit_to_store_is_named_with_where(
    body: bytes, kind: str, loc: list[object]
) -> None:
    problem = json_body_problem(body)

    assert problem is not None
    assert problem.details() == {"errors": [{"loc": loc, "msg": problem.message, "type": kind}]}
    # The answer never echoes the text it refuses, so it can always be sent.
    json.dumps(problem.details(), ensure_ascii=False).encode()


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "plain"}',
        _nested(MAX_JSON_DEPTH).encode(),
        # An escaped backslash followed by "u0000" is six characters of text, not a NUL.
        b'{"a": "\\\\u0000"}',
        # A surrogate pair is one character.
        b'{"a": "\\ud83d\\ude00"}',
        '{"a": "caf\u00e9 \U0001f600"}'.encode(),
        # Not JSON at all: the route answers that as a malformed body.
        b'{"a": ',
    ],
)
def test_a_body_fit_to_store_passes(body: bytes) -> None:
    assert json_body_problem(body) is None
