"""Rendering templates and conditions in the sandbox, its limits, and reading references."""

from __future__ import annotations

import time
from typing import Any

import pytest

from towpath.domain.templates import (
    RESERVED_NAMES,
    TemplateError,
    TemplateLimits,
    evaluate_expression,
    referenced_names,
    referenced_steps,
    render_value,
    template_environment,
    template_strings,
)

CONTEXT: dict[str, Any] = {
    "input": {"count": 3, "name": "Ada", "tags": ["a", "b"], "items": [1, 2]},
    "fetch_user": {"status": 200, "body": {"name": "Ada", "id": 7}},
    "steps": {"node-1": {"body": {"ok": True}}},
    "secrets": {"TOKEN": "s3cret"},
}

# Small budgets so a template that would run away is stopped within milliseconds.
TIGHT = TemplateLimits(max_template_chars=200, max_output_chars=10_000, max_seconds=0.05)


def render(value: Any, limits: TemplateLimits = TIGHT) -> Any:
    return render_value(value, CONTEXT, limits)


def test_a_lone_expression_keeps_its_native_value() -> None:
    config = {
        "user": "{{ fetch_user.body }}",
        "count": "  {{ input.count }} ",
        "tags": "{{- input.tags -}}",
        "ok": "{{ steps['node-1'].body.ok }}",
        "nothing": "{{ none }}",
    }

    assert render(config) == {
        "user": {"name": "Ada", "id": 7},
        "count": 3,
        "tags": ["a", "b"],
        "ok": True,
        "nothing": None,
    }


def test_mixed_text_renders_to_a_string() -> None:
    assert render("Hello {{ input.name }}, #{{ input.count }}") == "Hello Ada, #3"
    assert render("{{ input.count }}{{ input.count }}") == "33"
    assert render("{% for t in input.tags %}{{ t }}{% endfor %}") == "ab"


def test_nested_values_are_walked_and_other_values_kept() -> None:
    value = {"a": ["{{ input.count + 1 }}", 5, None, {"b": "x {{ input.name }}"}], "c": True}

    assert render(value) == {"a": [4, 5, None, {"b": "x Ada"}], "c": True}


def test_strings_without_template_syntax_pass_through() -> None:
    assert render("just text with { braces } and %s") == "just text with { braces } and %s"


def test_data_is_substituted_never_rendered_again() -> None:
    context = {"input": {"evil": "{{ 7*7 }}", "block": "{% for x in range(3) %}x{% endfor %}"}}

    assert render_value("{{ input.evil }}", context, TIGHT) == "{{ 7*7 }}"
    assert render_value("say {{ input.block }}", context, TIGHT) == (
        "say {% for x in range(3) %}x{% endfor %}"
    )


def test_a_missing_name_is_named_in_the_error() -> None:
    with pytest.raises(TemplateError, match="'fetch_usr' is undefined") as caught:
        render("{{ fetch_usr.body }}")

    assert "{{ fetch_usr.body }}" in str(caught.value)
    assert caught.value.template == "{{ fetch_usr.body }}"


def test_a_missing_attribute_is_named_in_the_error() -> None:
    with pytest.raises(TemplateError, match="has no attribute 'email'"):
        render("to: {{ fetch_user.body.email }}")


def test_an_undefined_value_inside_a_native_result_is_an_error() -> None:
    with pytest.raises(TemplateError, match="'missing' is undefined"):
        render("{{ [input.count, missing] }}")


def test_a_key_named_like_a_method_is_the_key() -> None:
    assert render("{{ input.items }}") == [1, 2]
    assert render("{{ input['items'] }}") == [1, 2]


def test_a_method_read_by_mistake_is_an_error_not_a_value() -> None:
    with pytest.raises(TemplateError, match="not data"):
        render("{{ input.values }}")


@pytest.mark.parametrize(
    "template",
    ["{{ input.name", "{% for x in %}{% endfor %}", "{{ input.name }} {% endif %}"],
)
def test_syntax_errors_become_template_errors(template: str) -> None:
    with pytest.raises(TemplateError, match="syntax error"):
        render(template)


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ input.__class__ }}",
        "{{ fetch_user.body.__init__.__globals__ }}",
        "{{ input['tags'].append('x') }}",
    ],
)
def test_the_sandbox_refuses_unsafe_access(template: str) -> None:
    with pytest.raises(TemplateError, match="unsafe"):
        render(template)


def test_templates_cannot_change_run_data() -> None:
    with pytest.raises(TemplateError):
        render("{{ input['tags'].clear() }}")

    assert CONTEXT["input"]["tags"] == ["a", "b"]


def test_a_template_over_the_size_limit_is_refused() -> None:
    with pytest.raises(TemplateError, match="more than the limit of 200"):
        render("{{ input.name }}" + "x" * 300)


def test_rendered_output_over_the_limit_is_refused() -> None:
    context = {"input": {"big": "y" * 20_000}}

    with pytest.raises(TemplateError, match="exceed 10000 characters"):
        render_value("text: {{ input.big }}", context, TIGHT)


@pytest.mark.parametrize(
    "template",
    [
        "{{ 'a' * 10**9 }}",
        "{{ ['a'] * 10**9 }}",
        "{{ 9 ** (9 ** 9) }}",
        "{{ 'a'|center(10**9) }}",
        "{{ 'a'.ljust(10**9) }}",
        "{{ '%999999999s' % 'a' }}",
        "{{ '{:999999999}'.format('a') }}",
        "{{ (1).to_bytes(10**9, 'big') }}",
        "{{ ['a']|batch(10**9, 'b')|list }}",
        "{{ lipsum(100000) }}",
        "{{ ('a' * 1000)|replace('a', 'b' * 1000) }}",
        "{{ ('x\n' * 1000)|indent(1000) }}",
        "{{ ('x' * 1000).join(['a'] * 1000) }}",
        "{{ '%*s' % (10**9, 'a') }}",
        "{{ '{:{}}'.format('a', 10**9) }}",
        "{{ '%s'|format('a') ~ ('a' * 6000) ~ ('a' * 6000) }}",
        "{{ ('a' * 6000) + ('a' * 6000) }}",
        "{{ (10**4000) * (10**4000) }}",
        "{{ ('a ' * 1000)|wordwrap(1, wrapstring='x' * 100) }}",
        "{{ ('\t' * 1000).expandtabs(100) }}",
        "{% set ns = namespace(s='ab') %}{% for i in range(60) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    ],
)
def test_huge_results_fail_fast(template: str) -> None:
    started = time.monotonic()

    with pytest.raises(TemplateError, match="stopped"):
        render(template)

    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ '%5d' % 3 }}", "    3"),
        ("{{ '{:>4}|{:.2f}'.format('a', 2) }}", "   a|2.00"),
        ("{{ 'ab'|center(6) }}|", "  ab  |"),
        ("{{ 'x\ny'|indent(2) }}", "x\n  y"),
        ("{{ [1, 2]|join(', ') }}", "1, 2"),
        ("{{ 'aa bb'|wordwrap(2) }}", "aa\nbb"),
        ("{{ 'a\tb'.expandtabs(4) }}", "a   b"),
        ("{{ 'abc'.replace('b', 'xx') }}", "axxc"),
        ("{{ 'a' ~ 1 ~ none }}", "a1None"),
        ("{{ 'ab' + 'cd' }} {{ [1] + [2] }} {{ 2 ** 10 }} {{ 'ab' * 2 }}", "abcd [1, 2] 1024 abab"),
        ("long: {{ lipsum(1, html=False)|length > 10 }}", "long: True"),
    ],
)
def test_ordinary_string_work_stays_within_the_limits(template: str, expected: str) -> None:
    assert render(template) == expected


def test_power_is_left_associative_in_jinja_so_9_9_9_is_small() -> None:
    # Jinja reads 9**9**9 as (9**9)**9 = 9**81, unlike Python.
    assert render("{{ 9**9**9 }}") == 9**81


@pytest.mark.parametrize(
    "template",
    [
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        # No call and no output inside: only the loop itself can notice the time.
        "{% for a in input.many %}{% for b in input.many %}{% endfor %}{% endfor %}",
    ],
)
def test_nested_loops_hit_the_deadline_fast(template: str) -> None:
    context = {"input": {"many": list(range(100_000))}}
    limits = TemplateLimits(max_output_chars=10**6, max_seconds=0.05)
    started = time.monotonic()

    with pytest.raises(TemplateError, match=r"took longer than 0\.05s"):
        render_value(template, context, limits)

    assert time.monotonic() - started < 1


def test_runtime_errors_of_user_templates_become_template_errors() -> None:
    with pytest.raises(TemplateError, match="division by zero"):
        render("{{ input.count / 0 }}")


def test_evaluate_expression_accepts_bare_or_braced_expressions() -> None:
    assert evaluate_expression("input.count > 2", CONTEXT, TIGHT) is True
    assert evaluate_expression("{{ input.count > 5 }}", CONTEXT, TIGHT) is False
    assert evaluate_expression("fetch_user.body", CONTEXT, TIGHT) == {"name": "Ada", "id": 7}


def test_evaluate_expression_errors_name_the_problem() -> None:
    with pytest.raises(TemplateError, match="'nope' is undefined"):
        evaluate_expression("nope.status == 200", CONTEXT, TIGHT)
    with pytest.raises(TemplateError, match="syntax error"):
        evaluate_expression("input.count >", CONTEXT, TIGHT)
    with pytest.raises(TemplateError, match="syntax error"):
        evaluate_expression("{{ a }} and {{ b }}", CONTEXT, TIGHT)


def test_the_environment_is_one_strict_sandbox() -> None:
    environment = template_environment()

    assert environment is template_environment()
    assert environment.sandboxed
    assert environment.autoescape is False


def test_referenced_names_leave_out_jinja_globals_and_locals() -> None:
    template = (
        "{{ input.name }} {{ fetch_user.body }} {% set local = 1 %}{{ local }}"
        "{% for i in range(3) %}{{ i }}{{ loop.index }}{% endfor %}{{ dict(a=1) }}"
    )

    assert referenced_names(template) == {"input", "fetch_user"}
    assert referenced_names("{{ fetch_user.status == 200 and secrets.TOKEN }}") == {
        "fetch_user",
        "secrets",
    }
    assert referenced_names("fetch_user.status == 200", expression=True) == {"fetch_user"}


def test_referenced_steps_find_bare_names_and_steps_subscripts() -> None:
    template = (
        "{{ steps['node-1'].body }} {{ steps.other }} {{ fetch_user.body }}"
        " {{ input.x }} {{ secrets.TOKEN }} {{ run.id }} {{ steps[input.key] }}"
    )

    assert referenced_steps(template) == {"node-1", "other", "fetch_user"}
    assert referenced_steps("steps['a'].ok and b.ok", expression=True) == {"a", "b"}


def test_reading_references_of_a_broken_template_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="syntax error"):
        referenced_names("{{ input.")


def test_reserved_names_are_what_the_engine_provides() -> None:
    assert frozenset({"input", "secrets", "steps", "run", "item", "index"}) == RESERVED_NAMES


def test_template_strings_yield_paths_of_templated_strings_only() -> None:
    config = {
        "url": "https://x/{{ input.id }}",
        "method": "GET",
        "body": {"user": "{{ fetch_user.body }}", "tags": ["plain", "{% if x %}y{% endif %}"]},
        "retries": 3,
    }

    assert list(template_strings(config, "config")) == [
        ("config.url", "https://x/{{ input.id }}"),
        ("config.body.user", "{{ fetch_user.body }}"),
        ("config.body.tags[1]", "{% if x %}y{% endif %}"),
    ]


@pytest.mark.parametrize(
    ("template", "code", "fragment"),
    [
        (
            "{{ input.name | uppr }}",
            "template_unknown_filter",
            "filter 'uppr' (did you mean 'upper'?)",
        ),
        ("{% filter shout %}hi{% endfilter %}", "template_unknown_filter", "filter 'shout'"),
        ("{% if input.name is strng %}x{% endif %}", "template_unknown_test", "test 'strng'"),
        ("{{ 'x' if input.n is odd else input.n is evn }}", "template_unknown_test", "test 'evn'"),
    ],
)
def test_an_unknown_filter_or_test_is_a_template_error_naming_it(
    template: str, code: str, fragment: str
) -> None:
    with pytest.raises(TemplateError) as caught:
        referenced_names(template)

    assert caught.value.code == code
    assert fragment in str(caught.value)


def test_a_condition_with_an_unknown_filter_is_refused_too() -> None:
    with pytest.raises(TemplateError, match="unknown filter 'lenght'"):
        referenced_steps("items | lenght > 2", expression=True)
