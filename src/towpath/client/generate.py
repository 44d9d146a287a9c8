"""Writes the client's models and calls from a server's OpenAPI document.

`python -m towpath.client.generate openapi.json src/towpath/client` writes `models.py`
(a Pydantic model per schema) and `calls.py` (a function per operation); run `ruff format`
on them afterwards. The files are committed, and tests/client/test_drift.py generates them
again from the live document: a change of the API that the client does not follow fails.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

# Outside /api/v1 or not JSON: the streams have their own code (towpath.client.streams).
SKIPPED_OPERATIONS = frozenset({"stream_run"})
# Sent by the client on every request (Client(workspace=...)), not per call.
CLIENT_HEADERS = frozenset({"x-workspace"})
API_PREFIX = "/api/v1"

HEADER = '''"""{doc}

Generated from the server's OpenAPI document by towpath.client.generate: do not edit."""

from __future__ import annotations

'''


def _ref(schema: dict[str, Any]) -> str:
    return str(schema["$ref"]).rsplit("/", 1)[-1]


def _literal(values: list[Any]) -> str:
    return "Literal[" + ", ".join(json.dumps(v) for v in values) + "]"


def annotation(schema: dict[str, Any], models: str = "") -> str:
    """The Python type of a schema; `models` prefixes model names (`m.`) outside models.py."""
    if "$ref" in schema:
        return models + _ref(schema)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            parts = [annotation(part, models) for part in schema[key]]
            return " | ".join(dict.fromkeys(parts))
    if "enum" in schema:
        return _literal(schema["enum"])
    if "const" in schema:
        return _literal([schema["const"]])
    kind = schema.get("type")
    if kind == "null":
        return "None"
    if kind == "string":
        return "datetime" if schema.get("format") == "date-time" else "str"
    if kind in ("integer", "number", "boolean"):
        return {"integer": "int", "number": "float", "boolean": "bool"}[kind]
    if kind == "array":
        return f"list[{annotation(schema.get('items', {}), models)}]"
    if kind == "object":
        values = schema.get("additionalProperties")
        if isinstance(values, dict) and values and "properties" not in schema:
            return f"dict[str, {annotation(values, models)}]"
        return "dict[str, Any]"
    return "Any"


def _doc(schema: dict[str, Any], indent: str = "    ") -> str:
    """A docstring's text, wrapped to the line length ruff keeps."""
    text = " ".join(str(schema.get("description", "")).split())
    text = text.replace("\\", "\\\\").replace('"""', "'''")
    return textwrap.fill(text, 92 - len(indent), subsequent_indent=indent)


def _field(name: str, schema: dict[str, Any], required: bool) -> str:
    kind = annotation(schema)
    python = f"{name}_" if keyword.iskeyword(name) else name
    alias = f'Field(alias="{name}"' if python != name else ""
    if required:
        default = ""
    elif "default" in schema:
        default = repr(schema["default"])
    else:
        kind = kind if kind == "Any" or "None" in kind.split(" | ") else f"{kind} | None"
        default = "None"
    if alias:
        default = f"{alias}, default={default})" if default else f"{alias})"
    return f"    {python}: {kind}" + (f" = {default}" if default else "")


def models_module(document: dict[str, Any]) -> str:
    out = [HEADER.format(doc="The API's request and response bodies.")]
    out.append("from datetime import datetime\nfrom typing import Any, Literal\n\n")
    aliased = any(
        keyword.iskeyword(field)
        for schema in document["components"]["schemas"].values()
        for field in schema.get("properties", {})
    )
    out.append(f"from pydantic import BaseModel, ConfigDict{', Field' if aliased else ''}\n\n\n")
    out.append(
        "class Model(BaseModel):\n"
        '    """A body of the API; fields a newer server adds are kept, not refused."""\n\n'
        '    model_config = ConfigDict(extra="allow", populate_by_name=True)\n\n\n'
    )
    for name, schema in sorted(document["components"]["schemas"].items()):
        if "properties" not in schema:
            out.append(f"{name} = {annotation(schema)}\n\n\n")
            continue
        doc = _doc(schema)
        lines = [f"class {name}(Model):"]
        if doc:
            lines.append(f'    """{doc}"""\n')
        required = set(schema.get("required", []))
        for field, spec in schema["properties"].items():
            lines.append(_field(field, spec, field in required))
        out.append("\n".join(lines) + "\n\n\n")
    return "".join(out).rstrip() + "\n"


def _python_name(name: str) -> str:
    return re.sub(r"\W", "_", name.lower().removeprefix("x-")).strip("_")


def _answer(operation: dict[str, Any]) -> str:
    for status, response in operation["responses"].items():
        if not status.startswith("2"):
            continue
        content = response.get("content", {})
        if "application/json" in content:
            return annotation(content["application/json"].get("schema", {}), "m.")
        if "text/plain" in content:
            return "str"
    return "None"


def _call(path: str, method: str, operation: dict[str, Any]) -> str:
    name = operation["operationId"]
    args: list[str] = []
    keywords: list[str] = []
    params: list[str] = []
    headers: list[str] = []
    for param in operation.get("parameters", []):
        where, wire = param["in"], param["name"]
        if wire.lower() in CLIENT_HEADERS:
            continue
        python = _python_name(wire)
        kind = annotation(param["schema"], "m.")
        if where == "path":
            args.append(f"{python}: str")
        elif where == "query":
            keywords.append(f"{python}: {kind} | None = None")
            params.append(f'"{wire}": {python}')
        else:
            keywords.append(f"{python}: {kind} | None = None")
            headers.append(f'"{wire}": {python}')
    body = operation.get("requestBody")
    body_arg = ""
    if body is not None:
        schema = body["content"].get("application/json", {}).get("schema", {})
        kind = annotation(schema, "m.")
        if "Any" in kind or kind.startswith("dict"):
            kind = "Mapping[str, Any]"
        else:
            kind = f"{kind.replace(' | None', '')} | Mapping[str, Any]"
        if body.get("required"):
            args.append(f"body: {kind}")
        else:
            keywords.append(f"body: {kind} | None = None")
        body_arg = ", body=body"
    answer = _answer(operation)
    route = path.removeprefix(API_PREFIX) if path.startswith(API_PREFIX + "/") else path
    fields = re.findall(r"{(\w+)}", route)
    url = re.sub(r"{(\w+)}", lambda m: "{_part(" + m.group(1) + ")}", route)
    root = ", root=True" if not path.startswith(API_PREFIX + "/") else ""
    signature = ", ".join(args + (["*", *keywords] if keywords else []))
    summary = _doc(operation) or str(operation.get("summary", name))
    lines = [f"def {name}({signature}) -> Call[{answer}]:", f'    """{summary}"""']
    lines.append(
        f'    return Call("{method.upper()}", {"f" if fields else ""}"{url}", {answer}'
        + (f", params={{{', '.join(params)}}}" if params else "")
        + (f", headers={{{', '.join(headers)}}}" if headers else "")
        + body_arg
        + root
        + ")"
    )
    return "\n".join(lines) + "\n\n\n"


def calls_module(document: dict[str, Any]) -> str:
    out = [HEADER.format(doc="One function per operation of the API, each describing its call.")]
    out.append(
        "from typing import TYPE_CHECKING, Any, Literal\n\n"
        "from towpath.client import models as m\n"
        "from towpath.client.call import Call, _part\n\n"
        "if TYPE_CHECKING:\n"
        "    from collections.abc import Mapping\n"
        "    from datetime import datetime\n\n\n"
    )
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if operation["operationId"] not in SKIPPED_OPERATIONS:
                out.append(_call(path, method, operation))
    return "".join(out).rstrip() + "\n"


def main(argv: list[str]) -> None:
    source, target = Path(argv[0]), Path(argv[1])
    document = json.loads(source.read_text())
    (target / "models.py").write_text(models_module(document))
    (target / "calls.py").write_text(calls_module(document))


if __name__ == "__main__":
    main(sys.argv[1:])
