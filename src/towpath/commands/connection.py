"""Which server a command talks to, and with which key: `--url`/`--api-key`, else
TOWPATH_URL/TOWPATH_API_KEY, else the config file (`$TOWPATH_CONFIG`, or
~/.config/towpath/config.toml, with `url = "…"` and `api_key = "…"`)."""

from __future__ import annotations

import os
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from collections.abc import Iterator

    from towpath.client import AsyncClient, Client

DEFAULT_URL = "http://127.0.0.1:8000"

Url = Annotated[
    str | None,
    typer.Option("--url", envvar="TOWPATH_URL", help="The server's base URL.", show_default=False),
]
ApiKey = Annotated[
    str | None,
    typer.Option("--api-key", envvar="TOWPATH_API_KEY", help="An API key of the workspace."),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def config_path() -> Path:
    named = os.environ.get("TOWPATH_CONFIG")
    return Path(named) if named else Path.home() / ".config" / "towpath" / "config.toml"


def _config() -> dict[str, Any]:
    path = config_path()
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as error:
        typer.echo(f"{path}: {error}", err=True)
        raise typer.Exit(2) from error


@dataclass(frozen=True)
class Server:
    url: str
    api_key: str | None

    @classmethod
    def of(cls, url: str | None, api_key: str | None) -> Server:
        """The flags and environment (Typer merged them), then the config file."""
        config = _config() if url is None or api_key is None else {}
        return cls(
            url or str(config.get("url") or DEFAULT_URL),
            api_key or (str(config["api_key"]) if config.get("api_key") else None),
        )

    # The client (its models) is imported when a command runs, not when `towpath` starts.
    def client(self) -> Client:
        from towpath.client import Client

        return Client(self.url, self.api_key)

    def async_client(self) -> AsyncClient:
        from towpath.client import AsyncClient

        return AsyncClient(self.url, self.api_key)


@contextmanager
def reported() -> Iterator[None]:
    """A refusal of the server as its message on stderr and exit status 1."""
    from towpath.client import TowpathError

    try:
        yield
    except TowpathError as error:
        where = f" (request {error.request_id})" if error.request_id else ""
        typer.echo(f"error: {error.message} [{error.error_code}]{where}", err=True)
        for line in _problems(error.details.get("errors")):
            typer.echo(f"  {line}", err=True)
        raise typer.Exit(1) from error


def _problems(errors: object) -> list[str]:
    """What a refusal's `details.errors` lists, one line each: where, then what. Lists of
    `{loc, msg}` (a request's fields), of `{path, message}` (an input against its schema),
    or a mapping of a question's id to its problem."""
    if isinstance(errors, dict):
        return [f"{key}: {value}" for key, value in errors.items()]
    if not isinstance(errors, list):
        return []
    lines = []
    for error in errors:
        if not isinstance(error, dict):
            lines.append(str(error))
            continue
        where = error.get("path") or error.get("loc") or error.get("field")
        if isinstance(where, list):
            where = ".".join(str(part) for part in where)
        what = error.get("message") or error.get("msg") or error
        lines.append(f"{where}: {what}" if where else str(what))
    return lines
