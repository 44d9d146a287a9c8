"""Request data no database can store or no response can carry: a NUL character or a
lone surrogate in a JSON body, NaN and Infinity (not JSON), a number too large for a
double (1e400), and JSON nested deeper than MAX_JSON_DEPTH. Checked for every route by
the API's middleware, and by a webhook delivery once its signature is checked."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

# Levels of arrays and objects a JSON body may nest, the body itself the first: far more
# than any definition or input needs, and well inside what parsing, JSON Schema checks
# and the response serializer handle.
MAX_JSON_DEPTH = 64

_NUL_ESCAPE = b"\\u0000"
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class DataProblem:
    """What is wrong with a request's data, where (as FastAPI locates a body error)."""

    kind: str
    loc: Location
    message: str

    def details(self) -> dict[str, Any]:
        return {"errors": [{"loc": list(self.loc), "msg": self.message, "type": self.kind}]}


class _NotJsonNumber(ValueError):
    def __init__(self, literal: str) -> None:
        super().__init__(literal)
        self.literal = literal


def _refuse_constant(literal: str) -> Any:
    raise _NotJsonNumber(literal)


class _OutOfRange(ValueError):
    def __init__(self, literal: str) -> None:
        super().__init__(literal)
        self.literal = literal


def _finite(literal: str) -> float:
    # 1e400 is JSON, but Python reads it as inf, which would be stored as Infinity.
    value = float(literal)
    if math.isinf(value):
        raise _OutOfRange(literal)
    return value


def _where(loc: Location) -> str:
    return ".".join(str(part) for part in loc)


def _text_problem(text: str, loc: Location, what: str) -> DataProblem | None:
    if "\x00" in text:
        message = f"{what} at {_where(loc)} holds a NUL character (\\u0000), which text may not"
        return DataProblem("nul_character", loc, message)
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            message = f"{what} at {_where(loc)} holds a lone surrogate, which is not text"
            return DataProblem("lone_surrogate", loc, message)
    return None


def _walk(value: Any, *, max_depth: int, check_text: bool) -> DataProblem | None:
    """The first problem found in a parsed body, walking it without recursion."""
    pending: list[tuple[Any, int, Location]] = [(value, 1, ("body",))]
    while pending:
        item, depth, loc = pending.pop()
        if isinstance(item, dict | list) and depth > max_depth:
            message = f"the request body nests deeper than {max_depth} levels at {_where(loc)}"
            return DataProblem("too_deep", loc, message)
        if isinstance(item, dict):
            for key, child in item.items():
                if check_text and (problem := _text_problem(key, loc, "a key")):
                    return problem
                pending.append((child, depth + 1, (*loc, key)))
        elif isinstance(item, list):
            pending.extend((child, depth + 1, (*loc, i)) for i, child in enumerate(item))
        elif check_text and isinstance(item, str) and (problem := _text_problem(item, loc, "text")):
            return problem
    return None


def json_body_problem(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> DataProblem | None:
    """What makes a JSON body unfit to store, or None. A body that is not JSON at all is
    left to the route, which answers it as malformed."""
    try:
        value = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite)
    except _NotJsonNumber as exc:
        message = f"{exc.literal} is not a JSON number; JSON has no NaN or Infinity"
        return DataProblem("not_json_number", ("body",), message)
    except _OutOfRange as exc:
        literal = exc.literal if len(exc.literal) <= 40 else exc.literal[:40] + "..."
        message = f"{literal} is beyond the largest number stored (about 1.8e308)"
        return DataProblem("number_out_of_range", ("body",), message)
    except RecursionError:
        message = f"the request body nests deeper than {max_depth} levels"
        return DataProblem("too_deep", ("body",), message)
    except ValueError:
        return None
    # Most bodies need no walk: a NUL or a surrogate can only arrive escaped, and a body
    # with few brackets cannot nest deep.
    check_text = _NUL_ESCAPE in body or _SURROGATE_ESCAPE.search(body) is not None
    if not check_text and body.count(b"[") + body.count(b"{") <= max_depth:
        return None
    return _walk(value, max_depth=max_depth, check_text=check_text)
