"""A cap put around rendering (a write transaction's share of template time) stops a
render with RenderCapReached, never the template's own error, so it can be run again
where the cap does not hold."""

from __future__ import annotations

import pytest

from towpath.domain.templates import (
    RenderCapReached,
    evaluate_expression,
    render_time_cap,
    render_value,
)

# Some milliseconds of work: past a 1 ms cap, far inside the 1 s one even when traced.
SLOW = "{% for i in range(50) %}{% for j in range(200) %}{% endfor %}{% endfor %}done"
CONTEXT = {"input": {"x": 1}, "secrets": {}, "steps": {}}


def test_a_render_past_the_cap_stops_with_cap_reached() -> None:
    with render_time_cap(0.001), pytest.raises(RenderCapReached):
        render_value({"v": SLOW}, CONTEXT)


def test_the_same_render_without_a_cap_completes() -> None:
    assert render_value({"v": SLOW}, CONTEXT) == {"v": "done"}


def test_a_condition_past_the_cap_stops_with_cap_reached() -> None:
    slow = "range(100000) | map('string') | map('length') | sum > 0"

    with render_time_cap(0.0), pytest.raises(RenderCapReached):
        evaluate_expression(slow, CONTEXT)


def test_a_long_template_new_to_the_process_is_not_compiled_under_a_cap() -> None:
    long = "new:" + "{{ input.x }}," * 40

    with render_time_cap(10.0), pytest.raises(RenderCapReached):
        render_value({"v": long}, CONTEXT)
    assert render_value({"v": long}, CONTEXT) == {"v": "new:" + "1," * 40}
    with render_time_cap(10.0):
        assert render_value({"v": long}, CONTEXT) == {"v": "new:" + "1," * 40}


def test_short_templates_render_under_a_cap() -> None:
    with render_time_cap(10.0):
        assert render_value({"v": "{{ input.x + 1 }}", "w": "x={{ input.x }}"}, CONTEXT) == {
            "v": 2,
            "w": "x=1",
        }
