"""Regular expressions in the JSON Schemas users write, matched by RE2: in time linear in
the text whatever the pattern, so `^(a+)+$` cannot hold a run start for seconds."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import re2
from jsonschema import FormatChecker, ValidationError
from jsonschema.validators import extend

if TYPE_CHECKING:
    from collections.abc import Iterator

    from jsonschema.protocols import Validator

# What a refused pattern cannot have; RE2 gives up these for its linear time.
RE2_SYNTAX = "RE2 syntax: no backreferences, lookahead or lookbehind"

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False
# Each compiled pattern may use this much for its program and its lazily built DFA (RE2's
# default is 8 MiB); a pattern too big for it is refused, as RE2 cannot compile it.
_OPTIONS.max_mem = 1024 * 1024

# Keywords whose value is data, not a schema: a "pattern" key inside it is plain data.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
# Keywords mapping names to subschemas: their keys are names, never keywords.
_NAMED_SUBSCHEMAS = frozenset(
    {"properties", "$defs", "definitions", "dependentSchemas", "dependencies"}
)
_PLAIN_KEY = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*")


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re2._Regexp[str] | str:
    """The compiled pattern, or why RE2 cannot compile it."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode(errors="replace")
        return f"{pattern!r} is not a regular expression towpath can match ({reason}; {RE2_SYNTAX})"


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be matched, or None when it can."""
    compiled = _compiled(pattern)
    return compiled if isinstance(compiled, str) else None


def search(pattern: str, text: str) -> bool:
    """True when `pattern` matches somewhere in `text`; ValueError when it cannot be used."""
    compiled = _compiled(pattern)
    if isinstance(compiled, str):
        raise ValueError(compiled)
    return compiled.search(text) is not None


def _segment(key: str) -> str:
    if _PLAIN_KEY.fullmatch(key):
        return f".{key}"
    return "['" + key.replace("\\", "\\\\").replace("'", r"\'") + "']"


def unusable_patterns(schema: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    """(JSON path, problem) of every `pattern` and `patternProperties` key of `schema`
    that RE2 cannot compile."""
    if isinstance(schema, list):
        for index, item in enumerate(schema):
            yield from unusable_patterns(item, f"{path}[{index}]")
        return
    if not isinstance(schema, dict):
        return
    for key, value in schema.items():
        where = path + _segment(str(key))
        if key in _DATA_KEYWORDS:
            continue
        if key == "pattern" and isinstance(value, str):
            if (problem := pattern_problem(value)) is not None:
                yield where, problem
        elif key in _NAMED_SUBSCHEMAS | {"patternProperties"} and isinstance(value, dict):
            for name, subschema in value.items():
                named = where + _segment(str(name))
                if key == "patternProperties" and (problem := pattern_problem(name)) is not None:
                    yield named, problem
                yield from unusable_patterns(subschema, named)
        else:
            yield from unusable_patterns(value, where)


def _uses(schema: Any, keyword: str) -> bool:
    if isinstance(schema, list):
        return any(_uses(item, keyword) for item in schema)
    if not isinstance(schema, dict):
        return False
    return keyword in schema or any(
        _uses(value, keyword) for key, value in schema.items() if key not in _DATA_KEYWORDS
    )


MIXED_KEYWORDS = (
    "unevaluatedProperties cannot be used in a schema that has patternProperties;"
    " use additionalProperties beside the patternProperties instead"
)


def mixes_pattern_keywords(schema: Any) -> bool:
    """jsonschema finds the properties `unevaluatedProperties` is left with by matching
    patternProperties with Python's backtracking matcher, where RE2 cannot stand in: a
    schema may not use the two together."""
    return _uses(schema, "unevaluatedProperties") and _uses(schema, "patternProperties")


# --- the keywords, with RE2 in place of Python's `re` --------------------------------------


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "string"):
        return
    try:
        found = search(pattern, instance)
    except ValueError as exc:
        yield ValidationError(str(exc))
        return
    if not found:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, patterns: dict[str, Any], instance: Any, schema: Any
) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        compiled = _compiled(pattern)
        if isinstance(compiled, str):
            yield ValidationError(compiled)
            continue
        for key, value in instance.items():
            if compiled.search(key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _extras(instance: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    """Keys neither `properties` nor `patternProperties` cover."""
    properties = schema.get("properties", {})
    compiled = [_compiled(p) for p in schema.get("patternProperties", {})]
    usable = [p for p in compiled if not isinstance(p, str)]
    return {
        key for key in instance if key not in properties and not any(p.search(key) for p in usable)
    }


def _additional_properties(
    validator: Any, additional: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[Any]:
    """jsonschema's keyword, its messages included, finding the extra keys with RE2."""
    if not validator.is_type(instance, "object"):
        return
    extras = _extras(instance, schema)
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        ordered = sorted(extras, key=str)
        if "patternProperties" in schema:
            verb = "does" if len(extras) == 1 else "do"
            joined = ", ".join(repr(each) for each in ordered)
            patterns = ", ".join(repr(each) for each in sorted(schema["patternProperties"]))
            yield ValidationError(f"{joined} {verb} not match any of the regexes: {patterns}")
        else:
            listed = ", ".join(repr(each) for each in ordered)
            verb = "was" if len(extras) == 1 else "were"
            yield ValidationError(
                f"Additional properties are not allowed ({listed} {verb} unexpected)"
            )


def _unevaluated_refused(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "object"):
        yield ValidationError(f"the schema cannot be checked: {MIXED_KEYWORDS}")


def _is_regex(instance: object) -> bool:
    if isinstance(instance, str) and (problem := pattern_problem(instance)) is not None:
        raise ValueError(problem)
    return True


@lru_cache(maxsize=16)
def regex_format_checker(cls: type[Validator]) -> FormatChecker:
    """The draft's format checker, with `regex` meaning a pattern RE2 compiles."""
    checker = FormatChecker(formats=())
    checker.checkers = {**cls.FORMAT_CHECKER.checkers, "regex": (_is_regex, ValueError)}
    return checker


@lru_cache(maxsize=16)
def linear_validator_class(cls: type[Validator], *, refuse_unevaluated: bool) -> type[Validator]:
    """`cls` matching every pattern with RE2; `refuse_unevaluated` for a schema that mixes
    unevaluatedProperties with patternProperties (saved before that was refused)."""
    keywords: dict[str, Any] = {
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
    }
    if refuse_unevaluated:
        keywords["unevaluatedProperties"] = _unevaluated_refused
    known = {name: check for name, check in keywords.items() if name in cls.VALIDATORS}
    # jsonschema's documented way to replace keywords, which it does not type.
    extended: type[Validator] = extend(  # type: ignore[no-untyped-call]
        cls, known, format_checker=regex_format_checker(cls)
    )
    return extended
