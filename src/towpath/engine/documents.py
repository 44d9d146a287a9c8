"""What a step hands back must be a JSON document every database can store and the API
can read back: no NUL character (PostgreSQL's jsonb refuses it), no lone surrogate (it is
not text), no NaN or infinity (JSON has no word for them), no nesting deeper than a
reader can follow."""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 100

_encode = json.JSONEncoder(allow_nan=False, ensure_ascii=False, separators=(",", ":")).encode


def unstorable(value: Any, name: str) -> str | None:
    """Why `value` cannot be stored, naming where in it the trouble is; None if it can."""
    try:
        text = _encode(value)
    except (ValueError, TypeError, RecursionError):
        return _find(value, name) or f"{name} is not a JSON document"
    # Encoding is fast; the walk that names the place only runs when there is trouble,
    # or when there are enough brackets that the nesting might be too deep.
    if "\\u0000" in text or text.count("[") + text.count("{") > MAX_DEPTH:
        return _find(value, name)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _find(value, name)
    return None


def _find(value: Any, name: str) -> str | None:
    stack: list[tuple[Any, str, int]] = [(value, name, 1)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"{name} is nested deeper than {MAX_DEPTH} levels"
        if isinstance(item, str):
            problem = _text_problem(item)
            if problem:
                return f"{path} {problem}"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return f"{path} is {item}, a number JSON cannot hold"
        elif isinstance(item, dict):
            for key, inner in item.items():
                problem = _text_problem(key) if isinstance(key, str) else None
                if problem:
                    return f"a key in {path} {problem}"
                stack.append((inner, f"{path}.{key}", depth + 1))
        elif isinstance(item, list | tuple):
            stack += [(inner, f"{path}[{i}]", depth + 1) for i, inner in enumerate(item)]
        elif item is not None and not isinstance(item, bool | int):
            return f"{path} is a {type(item).__name__}, not JSON"
    return None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "holds a NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone surrogate, which is not text"
    return None
