"""The Jinja sandbox templates run in, with a time and size budget for every render."""

from __future__ import annotations

import inspect
import math
import re
import string
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sized
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jinja2 import StrictUndefined, nodes, pass_context
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum
from jinja2.visitor import NodeTransformer

if TYPE_CHECKING:
    from collections.abc import Callable

    from jinja2.runtime import Context

    FilterCheck = Callable[["RenderBudget", Mapping[str, Any]], None]

# Filter names a template cannot spell (the lexer stops at ':'), used by the AST guards.
PACED_FILTER = "towpath:paced"
CONCAT_FILTER = "towpath:concat"


@dataclass(frozen=True)
class TemplateLimits:
    """How big a template may be and how much time and output one render may take."""

    max_template_chars: int = 64 * 1024
    max_output_chars: int = 1024 * 1024
    max_seconds: float = 1.0


class TemplateLimitExceeded(SecurityError):
    """A render ran out of time or would have produced too much."""


class RenderCapReached(Exception):
    """A render ran past a cap set around it from outside (the template time a write
    transaction may spend): not the template's fault, so it is tried again where no cap
    holds, under its own limits."""


@dataclass
class RenderBudget:
    """What is left of one render's limits; shared by every string of one value."""

    limits: TemplateLimits
    deadline: float | None
    output_chars: int = 0
    # A stricter deadline in this thread's CPU time, set by whoever renders
    # (render_time_cap), if any.
    cap: float | None = None

    def check_deadline(self) -> None:
        now = time.thread_time()
        if self.deadline is not None and now > self.deadline:
            raise TemplateLimitExceeded(f"rendering took longer than {self.limits.max_seconds:g}s")
        if self.cap is not None and now > self.cap:
            raise RenderCapReached("rendering ran past the time this transaction may spend")

    def check_size(self, chars: Any) -> None:
        # Callers pass user-supplied widths too; a non-number is the callee's to refuse.
        if _is_int(chars) and chars > self.limits.max_output_chars:
            raise TemplateLimitExceeded(
                f"the result would exceed {self.limits.max_output_chars} characters"
            )

    def check_digits(self, digits: int) -> None:
        most = sys.get_int_max_str_digits() or self.limits.max_output_chars
        if digits > most:
            raise TemplateLimitExceeded(f"the number would exceed {most} digits")

    def spend_output(self, chars: int) -> None:
        self.output_chars += chars
        self.check_size(self.output_chars)
        self.check_deadline()


_BUDGET: ContextVar[RenderBudget | None] = ContextVar("towpath_render_budget", default=None)
_CAP: ContextVar[float | None] = ContextVar("towpath_render_cap", default=None)


@contextmanager
def render_time_cap(seconds: float) -> Iterator[None]:
    """Stop every render begun inside this block once this thread has spent `seconds` of
    CPU time, with RenderCapReached, however much of its own time limit is left. CPU time,
    not the clock's: a busy machine slows the transaction, not what it may do."""
    token = _CAP.set(time.thread_time() + seconds)
    try:
        yield
    finally:
        _CAP.reset(token)


@contextmanager
def render_budget(limits: TemplateLimits) -> Iterator[RenderBudget]:
    """Start the clock and the output count for one render. The clock is this thread's CPU
    time: a render is synchronous, and a machine busy with other work must not make a
    template that fits its limit fail."""
    budget = RenderBudget(limits, time.thread_time() + limits.max_seconds, cap=_CAP.get())
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def current_budget() -> RenderBudget:
    # Outside render_budget (someone using the environment directly) sizes stay limited.
    return _BUDGET.get() or RenderBudget(TemplateLimits(), deadline=None)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _digits(number: int) -> int:
    return abs(number).bit_length() * 3 // 10 + 1


def approximate_size(value: Any, stop_at: int) -> int:
    """Characters `value` takes once rendered, counted only until `stop_at` is passed."""
    total, pending = 0, [value]
    while pending and total <= stop_at:
        item = pending.pop()
        if isinstance(item, str | bytes):
            total += len(item)
        elif _is_int(item):
            total += _digits(item)
        elif isinstance(item, list | tuple | set | frozenset | dict):
            total += len(item) + 1
            if total <= stop_at:
                pending.extend(item.items() if isinstance(item, dict) else item)
        else:
            total += 1
    return total


def _size(budget: RenderBudget, value: Any) -> int:
    return approximate_size(value, budget.limits.max_output_chars)


# --- operators -------------------------------------------------------------------------


def _check_product(budget: RenderBudget, left: Any, right: Any) -> None:
    if _is_int(left) and _is_int(right):
        budget.check_digits(_digits(left) + _digits(right))
    elif _is_int(right) and isinstance(left, str | bytes | list | tuple):
        budget.check_size(_size(budget, left) * right)
    elif _is_int(left) and isinstance(right, str | bytes | list | tuple):
        budget.check_size(_size(budget, right) * left)


def _check_power(budget: RenderBudget, base: Any, exponent: Any) -> None:
    if _is_int(base) and _is_int(exponent) and exponent > 0 and abs(base) > 1:
        # Capping the exponent keeps it a float; any capped one is far past the limit.
        budget.check_digits(math.ceil(math.log10(abs(base)) * min(exponent, 10**18)))


_SEQUENCES = (str, bytes, list, tuple)


def _check_sum(budget: RenderBudget, left: Any, right: Any) -> None:
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        budget.check_size(_size(budget, left) + _size(budget, right))


# A %-conversion's width and precision, each a number or '*'.
_PERCENT_SPEC = re.compile(r"%%|%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_wide_number(budget: RenderBudget, digits: str) -> None:
    limit = budget.limits.max_output_chars
    if len(digits) > len(str(limit)) or int(digits) > limit:
        raise TemplateLimitExceeded(f"a format width of {digits[:20]} is too large")


def _check_int_arguments(budget: RenderBudget, values: Iterable[Any]) -> None:
    for value in values:
        if _is_int(value) and value > budget.limits.max_output_chars:
            raise TemplateLimitExceeded(f"a format width of {value} is too large")


def _argument_values(arguments: Any) -> list[Any]:
    if isinstance(arguments, Mapping):
        return list(arguments.values())
    return list(arguments) if isinstance(arguments, tuple | list) else [arguments]


def check_percent_format(budget: RenderBudget, template: str, arguments: Any) -> None:
    """Refuse `'%999999999s' % x` and `'%*s' % (10**9, x)` before Python allocates them."""
    for match in _PERCENT_SPEC.finditer(template):
        for width in match.groups():
            if width == "*":
                _check_int_arguments(budget, _argument_values(arguments))
            elif width:
                _check_wide_number(budget, width)


def check_brace_format(budget: RenderBudget, template: str, arguments: list[Any]) -> None:
    """Refuse `'{:999999999}'.format(x)` and `'{:{}}'.format(x, 10**9)` the same way."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:
        return  # str.format reports the malformed template itself
    for _, _, spec, _ in fields:
        for digits in re.findall(r"\d+", spec or ""):
            _check_wide_number(budget, digits)
        if spec and "{" in spec:
            _check_int_arguments(budget, arguments)


def check_operation(budget: RenderBudget, operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        _check_product(budget, left, right)
    elif operator == "**":
        _check_power(budget, left, right)
    elif operator == "+":
        _check_sum(budget, left, right)
    elif operator == "%" and isinstance(left, str | bytes):
        text = left.decode("latin-1") if isinstance(left, bytes) else left
        check_percent_format(budget, text, right)


# --- calls -----------------------------------------------------------------------------


def _check_replace(budget: RenderBudget, text: str, old: Any, new: Any, count: Any) -> None:
    old, new = str(old), str(new)
    found = text.count(old) if old else len(text) + 1
    if _is_int(count) and count >= 0:
        found = min(found, count)
    budget.check_size(len(text) + found * (len(new) - len(old)))


def _check_join(budget: RenderBudget, separator: Any, items: Any) -> None:
    if isinstance(items, Sized):
        budget.check_size(_size(budget, items) + len(str(separator)) * len(items))


def _check_translate(budget: RenderBudget, text: str, table: Any) -> None:
    if isinstance(table, Mapping):
        longest = max((_size(budget, v) for v in table.values()), default=1)
        budget.check_size(len(text) * longest)


def _first(args: tuple[Any, ...], kwargs: Mapping[str, Any], name: str, default: Any) -> Any:
    return args[0] if args else kwargs.get(name, default)


def _check_text_method(
    budget: RenderBudget, text: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    if name in {"center", "ljust", "rjust", "zfill"}:
        budget.check_size(_first(args, kwargs, "width", 0))
    elif name == "expandtabs":
        tab = _first(args, kwargs, "tabsize", 8)
        tabs = text.count(b"\t") if isinstance(text, bytes) else text.count("\t")
        budget.check_size(len(text) + tabs * tab if _is_int(tab) else 0)
    elif name == "replace" and len(args) >= 2 and isinstance(text, str):
        _check_replace(budget, text, args[0], args[1], args[2] if len(args) > 2 else -1)
    elif name == "join" and args:
        _check_join(budget, text, args[0])
    elif name == "translate" and args and isinstance(text, str):
        _check_translate(budget, text, args[0])
    elif name in {"format", "format_map"} and isinstance(text, str):
        values = _argument_values(args[0]) if name == "format_map" and args else list(args)
        check_brace_format(budget, text, values + list(kwargs.values()))


def _check_lorem_ipsum(budget: RenderBudget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    try:
        bound = inspect.signature(generate_lorem_ipsum).bind(*args, **kwargs)
    except TypeError:
        return  # the call itself reports its wrong arguments
    bound.apply_defaults()
    paragraphs, most_words = bound.arguments["n"], bound.arguments["max"]
    if _is_int(paragraphs) and _is_int(most_words):
        budget.check_size(paragraphs * most_words * 12)  # a word and its markup, at most


def check_call(
    budget: RenderBudget, callee: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """Refuse calls whose result would blow past the size budget, before making them."""
    # Jinja passes its own bookkeeping along with the template's keyword arguments.
    kwargs = {k: v for k, v in kwargs.items() if k not in {"_loop_vars", "_block_vars"}}
    # The sandbox hands out str.format wrapped; the method it wraps is what is called.
    target = getattr(callee, "__wrapped__", callee)
    owner, name = getattr(target, "__self__", None), getattr(target, "__name__", "")
    if isinstance(owner, str | bytes):
        _check_text_method(budget, owner, name, args, kwargs)
    elif _is_int(owner) and name == "to_bytes":
        budget.check_size(_first(args, kwargs, "length", 1))
    elif callee is generate_lorem_ipsum:  # the `lipsum` global
        _check_lorem_ipsum(budget, args, kwargs)


# --- filters ---------------------------------------------------------------------------


def _indent_size(text: str, width: Any) -> int:
    per_line = len(width) if isinstance(width, str) else width if _is_int(width) else 0
    return len(text) + per_line * (text.count("\n") + 1)


def _wordwrap_size(text: str, width: Any, wrapstring: Any) -> int:
    # Lines are at most one per `width` characters plus one per word or hyphen break.
    per_line = len(wrapstring) if isinstance(wrapstring, str) else 1
    lines = len(text) // max(width, 1) if _is_int(width) else len(text)
    lines += text.count(" ") + text.count("-") + text.count("\n") + 1
    return len(text) + per_line * lines


def _check_join_filter(budget: RenderBudget, arguments: Mapping[str, Any]) -> None:
    if arguments["attribute"] is None:  # joining attributes is smaller than the items
        _check_join(budget, arguments["d"], arguments["value"])


_FILTER_CHECKS: dict[str, FilterCheck] = {
    "center": lambda b, a: b.check_size(a["width"]),
    "indent": lambda b, a: b.check_size(_indent_size(str(a["s"]), a["width"])),
    "format": lambda b, a: check_percent_format(b, str(a["value"]), a["args"] or a["kwargs"]),
    "replace": lambda b, a: _check_replace(b, str(a["s"]), a["old"], a["new"], a["count"]),
    "join": _check_join_filter,
    "wordwrap": lambda b, a: b.check_size(_wordwrap_size(str(a["s"]), a["width"], a["wrapstring"])),
    "batch": lambda b, a: b.check_size(a["linecount"]),
    "slice": lambda b, a: b.check_size(a["slices"]),
}


def _leading_arguments(func: Any, context: Context) -> tuple[Any, ...]:
    passes = getattr(func, "jinja_pass_arg", None)
    name = getattr(passes, "name", None)
    if name == "context":
        return (context,)
    if name == "eval_context":
        return (context.eval_ctx,)
    if name == "environment":
        return (context.environment,)
    return ()


def guarded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter so it checks the deadline, and its size where it can blow up."""
    check = _FILTER_CHECKS.get(name)
    signature = inspect.signature(func) if check is not None else None

    # pass_context also keeps the optimizer from running the filter at compile time,
    # where no budget would apply.
    @pass_context
    def guarded(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        budget = current_budget()
        budget.check_deadline()
        leading = _leading_arguments(func, context)
        if check is not None and signature is not None:
            try:
                bound = signature.bind(*leading, value, *args, **kwargs)
            except TypeError:
                pass  # the filter itself reports its wrong arguments
            else:
                bound.apply_defaults()
                check(budget, bound.arguments)
        return func(*leading, value, *args, **kwargs)

    return guarded


@pass_context
def _paced(context: Context, items: Any) -> Iterator[Any]:
    """Loop items, checking the deadline at each one: an empty loop body calls nothing."""
    budget = current_budget()
    for item in items:
        budget.check_deadline()
        yield item


@pass_context
def _concat(context: Context, parts: list[Any]) -> str:
    """Jinja's `~`, refusing a result over the size limit before building it."""
    texts = [str(part) for part in parts]
    current_budget().check_size(sum(map(len, texts)))
    return "".join(texts)


class _BudgetGuards(NodeTransformer):
    """Route every loop and `~` of a template through the budget checks."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, PACED_FILTER, [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        parts = nodes.List(node.nodes, lineno=node.lineno)
        return nodes.Filter(parts, CONCAT_FILTER, [], [], None, None, lineno=node.lineno)


def _keep_value(value: Any) -> Any:
    return value


class TemplateSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox (templates cannot change run data), with budgets enforced."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, finalize=_keep_value)
        self.filters = {name: guarded_filter(name, f) for name, f in self.filters.items()}
        self.filters[PACED_FILTER] = _paced
        self.filters[CONCAT_FILTER] = _concat

    def _generate(
        self,
        source: nodes.Template,
        name: str | None,
        filename: str | None,
        defer_init: bool = False,
    ) -> str:
        # Jinja's documented hook between parsing and code generation.
        guarded = _BudgetGuards().visit(source)
        return super()._generate(guarded, name, filename, defer_init=defer_init)

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Run data is JSON: `input.items` means the key "items", not the dict method.
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        budget = current_budget()
        budget.check_deadline()
        check_operation(budget, operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        budget = current_budget()
        budget.check_deadline()
        check_call(budget, obj, args, kwargs)
        return super().call(context, obj, *args, **kwargs)
