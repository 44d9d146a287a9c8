"""A run's input and context are decoded once per run, not at every transition; a run
whose documents were written anew (a retry from a step) is read anew."""

from __future__ import annotations

import json

from towpath.engine.run_docs import RunDocs

LARGE = json.dumps({"items": [{"id": i, "name": f"item {i}"} for i in range(200)]})


def test_a_large_document_read_again_unchanged_is_not_decoded_again() -> None:
    docs = RunDocs()

    first = docs.read("r1", "input", LARGE)
    again = docs.read("r1", "input", str(LARGE))

    assert first == json.loads(LARGE)
    assert again is first


def test_a_document_written_anew_is_decoded_anew() -> None:
    docs = RunDocs()
    first = docs.read("r1", "input", LARGE)
    rewritten = LARGE.replace("item 7", "item seven")

    assert docs.read("r1", "input", rewritten)["items"][7]["name"] == "item seven"
    assert first["items"][7]["name"] == "item 7"


def test_each_run_and_column_has_its_own_and_small_ones_are_not_kept() -> None:
    docs = RunDocs()

    assert docs.read("r1", "input", LARGE) is not docs.read("r2", "input", LARGE)
    assert docs.read("r1", "context", '{"a": 1}') is not docs.read("r1", "context", '{"a": 1}')
    assert docs.read("r1", "input", None) is None
    assert docs.read("r1", "input", 7) == 7  # SQLite gives a bare number as a number


def test_what_is_kept_stays_within_its_budget_least_recently_read_going_first() -> None:
    docs = RunDocs(budget=len(LARGE) * 2)
    first = docs.read("r1", "input", LARGE)
    second = docs.read("r2", "input", LARGE)
    assert docs.read("r1", "input", LARGE) is first  # r1 is now the most recently read

    docs.read("r3", "input", LARGE)

    assert docs.read("r1", "input", LARGE) is first
    assert docs.read("r2", "input", LARGE) is not second
