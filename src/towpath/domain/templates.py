"""Rendering step configs and conditions with sandboxed Jinja, and reading what they use."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from contextlib import contextmanager
from difflib import get_close_matches
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from jinja2 import Template, Undefined, meta, nodes
from jinja2 import exceptions as jinja_errors
from jinja2.parser import Parser

from towpath.domain.template_checks import refused_use, secret_reads
from towpath.domain.template_sandbox import (
    RenderBudget,
    RenderCapReached,
    TemplateLimitExceeded,
    TemplateLimits,
    TemplateSandbox,
    render_budget,
    render_time_cap,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from jinja2.environment import TemplateExpression

__all__ = [
    "RESERVED_NAMES",
    "RenderCapReached",
    "TemplateError",
    "TemplateLimits",
    "evaluate_expression",
    "referenced_names",
    "referenced_secrets",
    "referenced_steps",
    "render_time_cap",
    "render_value",
    "template_environment",
    "template_strings",
]

# What the engine puts in every template's context, besides each upstream step's output
# under its node id; `item` and `index` exist only inside a for_each's inner step.
RESERVED_NAMES = frozenset({"input", "secrets", "steps", "run", "item", "index"})

# Names Jinja resolves without the context: the environment's globals and the loop.
_BUILTIN_NAMES = frozenset({"range", "dict", "lipsum", "cycler", "joiner", "namespace", "loop"})

# One `{{ ... }}` and nothing else but whitespace; `-` next to a brace is Jinja's
# whitespace control, not part of the expression.
_SINGLE_EXPRESSION = re.compile(r"\s*\{\{[-+]?(?P<expr>.*?)-?\}\}\s*", re.DOTALL)

_QUOTED_CHARS = 200
# The longest template compiled inside a write transaction, a few milliseconds' work at
# most; a template of 64 KiB takes seconds.
INLINE_COMPILE_CHARS = 256

DEFAULT_TEMPLATE_LIMITS = TemplateLimits()

_Built = TypeVar("_Built")


class TemplateError(Exception):
    """A template that does not parse, reads a missing name, or breaks the sandbox."""

    def __init__(self, message: str, template: str = "", code: str = "template_syntax") -> None:
        super().__init__(message)
        self.template = template
        # What validation reports it as: a syntax error, an unknown filter or test.
        self.code = code


@lru_cache(maxsize=1)
def template_environment() -> TemplateSandbox:
    """The one sandboxed environment every template and condition is rendered with."""
    return TemplateSandbox()


def _quoted(text: str) -> str:
    if len(text) <= _QUOTED_CHARS:
        return repr(text)
    return repr(text[:_QUOTED_CHARS]) + "..."


@contextmanager
def _explained_failures(text: str) -> Iterator[None]:
    """Turn whatever a user's template can raise into one TemplateError naming it."""
    quoted = _quoted(text)
    try:
        yield
    except jinja_errors.TemplateSyntaxError as exc:
        message = f"syntax error in template {quoted}: {exc.message} (line {exc.lineno})"
        raise TemplateError(message, text) from exc
    except jinja_errors.UndefinedError as exc:
        raise TemplateError(f"{exc.message} in template {quoted}", text) from exc
    except TemplateLimitExceeded as exc:
        raise TemplateError(f"template {quoted} was stopped: {exc}", text) from exc
    except jinja_errors.SecurityError as exc:
        raise TemplateError(f"template {quoted} is not allowed: {exc}", text) from exc
    # A template computing with the wrong data fails like this; it is the user's error.
    except (
        jinja_errors.TemplateError,
        ArithmeticError,
        LookupError,
        TypeError,
        ValueError,
        RecursionError,
    ) as exc:
        raise TemplateError(f"template {quoted} failed: {exc}", text) from exc


def _has_template_syntax(text: str) -> bool:
    return "{{" in text or "{%" in text


def _refuse_oversized(text: str, limits: TemplateLimits) -> None:
    if len(text) > limits.max_template_chars:
        message = (
            f"template {_quoted(text)} is {len(text)} characters, "
            f"more than the limit of {limits.max_template_chars}"
        )
        raise TemplateError(message, text)


def _strip_braces(expression: str) -> str:
    match = _SINGLE_EXPRESSION.fullmatch(expression)
    return match.group("expr") if match else expression


def _parse_expression(source: str) -> nodes.Expr:
    """Parse a bare expression the way `compile_expression` does, refusing trailing text."""
    parser = Parser(template_environment(), source, state="variable")
    expression = parser.parse_expression()
    if not parser.stream.eos:
        token = parser.stream.current
        raise jinja_errors.TemplateSyntaxError(
            f"unexpected {token.value!r} after the expression", token.lineno
        )
    return expression


def _single_expression_source(text: str) -> str | None:
    """The expression inside a template that is one `{{ expr }}`, else None."""
    match = _SINGLE_EXPRESSION.fullmatch(text)
    if match is None:
        return None
    body = template_environment().parse(text).body
    if len(body) != 1 or not isinstance(body[0], nodes.Output):
        return None
    meaningful = [
        node
        for node in body[0].nodes
        if not (isinstance(node, nodes.TemplateData) and not node.data.strip())
    ]
    # `{{ a }} {{ b }}` also matches the pattern; only one output node is one expression.
    if len(meaningful) != 1 or isinstance(meaningful[0], nodes.TemplateData):
        return None
    return match.group("expr")


class _Compiled(Generic[_Built]):
    """Compiled templates by their text, the most recently used kept. It tells whether a
    text is compiled already: compiling a long one takes seconds, which a write transaction
    must not spend."""

    def __init__(self, build: Callable[[str], _Built], size: int = 1024) -> None:
        self._build = build
        self._size = size
        self._entries: OrderedDict[str, _Built] = OrderedDict()
        # Renders run in the event loop and in the SQLite writer's thread at once.
        self._lock = threading.Lock()

    def __contains__(self, text: str) -> bool:
        return text in self._entries

    def __call__(self, text: str) -> _Built:
        with self._lock:
            found = self._entries.get(text)
            if found is not None:
                self._entries.move_to_end(text)
                return found
        built = self._build(text)
        with self._lock:
            self._entries[text] = built
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return built


def _refuse_compiling_under_cap(text: str, compiled: _Compiled[Any], budget: RenderBudget) -> None:
    """Under a cap (inside a write transaction), only a short template is compiled, as
    that is quick; a long one is left to a worker, which compiles it for everyone."""
    if budget.cap is None:
        return
    budget.check_deadline()
    if len(text) > INLINE_COMPILE_CHARS and text not in compiled:
        raise RenderCapReached(f"a template of {len(text)} characters is compiled by a worker")


def _build_template(text: str) -> Template | TemplateExpression:
    """A lone `{{ expr }}` compiles to an expression (native value), the rest to text."""
    environment = template_environment()
    source = _single_expression_source(text)
    if source is not None:
        return environment.compile_expression(source, undefined_to_none=False)
    return environment.from_string(text)


def _build_expression(source: str) -> TemplateExpression:
    _parse_expression(source)  # refuses `a }} {{ b` that compile_expression would accept
    return template_environment().compile_expression(source, undefined_to_none=False)


_compile_template = _Compiled(_build_template)
_compile_expression = _Compiled(_build_expression)


def _checked_native(value: Any) -> Any:
    """A native result must be data: no undefined hole, no method read by mistake."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, Undefined):
            str(item)  # StrictUndefined raises here, naming what was missing
        elif callable(item):
            raise jinja_errors.TemplateRuntimeError(
                f"the value is a function ({getattr(item, '__name__', item)!r}), not data;"
                " write x['name'] to read a key named like a method"
            )
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return value


def _render_string(text: str, context: Mapping[str, Any], budget: RenderBudget) -> Any:
    if not _has_template_syntax(text):
        return text
    _refuse_oversized(text, budget.limits)
    _refuse_compiling_under_cap(text, _compile_template, budget)
    with _explained_failures(text):
        compiled = _compile_template(text)
        if not isinstance(compiled, Template):
            return _checked_native(compiled(dict(context)))
        chunks = []
        for chunk in compiled.generate(dict(context)):
            budget.spend_output(len(chunk))
            chunks.append(chunk)
        return "".join(chunks)


def _render_within(value: Any, context: Mapping[str, Any], budget: RenderBudget) -> Any:
    if isinstance(value, str):
        return _render_string(value, context, budget)
    if isinstance(value, dict):
        return {key: _render_within(item, context, budget) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_render_within(item, context, budget) for item in value]
    return value


def render_value(
    value: Any, context: Mapping[str, Any], limits: TemplateLimits = DEFAULT_TEMPLATE_LIMITS
) -> Any:
    """Render every string in `value`; a lone `{{ expr }}` keeps the expression's type.

    The limits hold for the whole value: its strings share one deadline and one output
    count. Data from the context is substituted, never rendered again.
    """
    with render_budget(limits) as budget:
        return _render_within(value, context, budget)


def evaluate_expression(
    expression: str, context: Mapping[str, Any], limits: TemplateLimits = DEFAULT_TEMPLATE_LIMITS
) -> Any:
    """The value of a condition's expression, written with or without `{{ }}`."""
    _refuse_oversized(expression, limits)
    source = _strip_braces(expression)
    with render_budget(limits) as budget, _explained_failures(expression):
        _refuse_compiling_under_cap(source, _compile_expression, budget)
        compiled = _compile_expression(source)
        return _checked_native(compiled(dict(context)))


def _refuse_unknown_filters_and_tests(tree: nodes.Template, text: str) -> None:
    """Jinja finds an unknown filter only when it compiles the template, and an unknown
    test inside `{% if %}` only when that branch runs; both are typos to report now."""
    environment = template_environment()
    for node in tree.find_all((nodes.Filter, nodes.Test)):
        kind, known = (
            ("filter", environment.filters)
            if isinstance(node, nodes.Filter)
            else ("test", environment.tests)
        )
        if node.name in known:
            continue
        guess = get_close_matches(node.name, [n for n in known if n.isidentifier()], n=1)
        hint = f" (did you mean {guess[0]!r}?)" if guess else ""
        message = f"template {_quoted(text)} uses an unknown {kind} {node.name!r}{hint}"
        raise TemplateError(message, text, code=f"template_unknown_{kind}")


def _parsed(template_or_expr: str, *, expression: bool) -> nodes.Template:
    with _explained_failures(template_or_expr):
        if not expression:
            template = template_environment().parse(template_or_expr)
        else:
            parsed = _parse_expression(_strip_braces(template_or_expr))
            template = nodes.Template([nodes.Output([parsed])])
            template.set_environment(template_environment())
    _refuse_unknown_filters_and_tests(template, template_or_expr)
    problem = refused_use(template)
    if problem is not None:
        message = f"template {_quoted(template_or_expr)} {problem}"
        raise TemplateError(message, template_or_expr, code="template_not_allowed")
    return template


def _undeclared_names(tree: nodes.Template, text: str) -> set[str]:
    # Reading the names compiles the template, which may find more it refuses.
    with _explained_failures(text):
        return set(meta.find_undeclared_variables(tree))


def referenced_names(template_or_expr: str, *, expression: bool = False) -> set[str]:
    """The context names a template reads, without Jinja's own globals."""
    tree = _parsed(template_or_expr, expression=expression)
    return _undeclared_names(tree, template_or_expr) - _BUILTIN_NAMES


def _steps_subscripts(tree: nodes.Template) -> set[str]:
    """Node ids written as `steps['id']` or `steps.id`."""
    found = set()
    for node in tree.find_all((nodes.Getitem, nodes.Getattr)):
        target = getattr(node, "node", None)
        if not (isinstance(target, nodes.Name) and target.name == "steps"):
            continue
        if isinstance(node, nodes.Getattr):
            found.add(node.attr)
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            found.add(str(node.arg.value))
    return found


def referenced_steps(template_or_expr: str, *, expression: bool = False) -> set[str]:
    """Node ids a template reads: bare names that are not reserved, and `steps['id']`."""
    tree = _parsed(template_or_expr, expression=expression)
    bare = _undeclared_names(tree, template_or_expr) - _BUILTIN_NAMES - RESERVED_NAMES
    return bare | _steps_subscripts(tree)


def referenced_secrets(template_or_expr: str, *, expression: bool = False) -> set[str]:
    """The secret names a template reads; one that reads `secrets` other than by a written
    name (`secrets[input.x]`, the whole mapping) is refused: what it reads is unknowable."""
    tree = _parsed(template_or_expr, expression=expression)
    names, otherwise = secret_reads(tree)
    if otherwise:
        message = f"template {_quoted(template_or_expr)} reads secrets other than as secrets.NAME"
        raise TemplateError(message, template_or_expr, code="secret_not_by_name")
    return names


def secrets_read(value: Any) -> frozenset[str]:
    """The secret names the templates anywhere in `value` read; a template that does not
    parse is passed over (rendering it says what is wrong)."""
    names: set[str] = set()
    for _, text in template_strings(value):
        try:
            names |= referenced_secrets(text)
        except TemplateError:
            continue
    return frozenset(names)


def template_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, text) of every string holding template syntax, e.g. `config.body.user`."""
    if isinstance(value, str):
        if _has_template_syntax(value):
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from template_strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from template_strings(item, f"{path}[{index}]")
