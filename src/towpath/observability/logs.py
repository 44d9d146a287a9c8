"""Log lines as JSON, each carrying the request, run and step it was written for.

The ids live in context variables, so a line knows them without being handed them:
the API sets the request id per request, the worker sets a run and step id around the
work on a step with `log_context(run_id=..., step_id=...)`.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

_IDS: dict[str, ContextVar[str | None]] = {
    name: ContextVar(f"towpath_{name}", default=None)
    for name in ("request_id", "client_address", "run_id", "step_id")
}
# A URL's query string may hold a secret (`?api_key=…`): no log line carries one, whoever
# wrote it (httpx names every URL it calls, an exception quotes the URL it failed on).
_QUERY = re.compile(r"""(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s?#"'<>]*)\?[^\s#"'<>]*""")
# Libraries that log each call with its URL, or at debug level headers, SQL parameters or
# frames (a run's input, a step's secrets): only their warnings are logged.
QUIET_LOGGERS = ("httpx", "httpcore", "hpack", "h11", "h2", "aiosqlite", "asyncpg", "websockets")
# Attributes every LogRecord has; anything else a caller passed in `extra` is logged too.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def set_request(request_id: str, client_address: str | None) -> None:
    """For the rest of this request's task: its id and the caller's address."""
    _IDS["request_id"].set(request_id)
    _IDS["client_address"].set(client_address)


def current(name: str) -> str | None:
    return _IDS[name].get()


@contextmanager
def log_context(**ids: str | None) -> Iterator[None]:
    """Lines logged inside the block carry these ids (run_id, step_id, request_id)."""
    tokens = [(_IDS[name], _IDS[name].set(value)) for name, value in ids.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def without_queries(text: str) -> str:
    """`text` with every URL's query string taken out (`https://host/path?…`)."""
    return _QUERY.sub(r"\1?…", text) if "?" in text else text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": without_queries(record.getMessage()),
        }
        for name, var in _IDS.items():
            value = var.get()
            if value is not None:
                line[name] = value
        for name, value in vars(record).items():
            if name not in _RECORD_FIELDS and not name.startswith("_"):
                line[name] = without_queries(value) if isinstance(value, str) else value
        if record.exc_info:
            line["exception"] = without_queries(self.formatException(record.exc_info))
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = without_queries(super().format(record))
        ids = " ".join(f"{name}={var.get()}" for name, var in _IDS.items() if var.get())
        return f"{text} [{ids}]" if ids else text


def logging_config(level: str, fmt: str) -> dict[str, Any]:
    """A dictConfig for our loggers and uvicorn's, so every line has one format."""
    formatter = JsonFormatter if fmt == "json" else TextFormatter
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "towpath",
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"towpath": {"()": formatter}},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level.upper()},
        "loggers": {
            # Requests are logged once, by towpath.http, with their route and duration.
            "uvicorn.access": {"handlers": [], "propagate": False},
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            # Steps' calls are logged by towpath, without query strings or header values.
            **{name: {"level": "WARNING"} for name in QUIET_LOGGERS},
        },
    }


def configure_logging(level: str, fmt: str) -> None:
    logging.config.dictConfig(logging_config(level, fmt))
