"""The `towpath` command line."""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path  # noqa: TC003 - Typer reads the annotations at run time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from towpath import __version__
from towpath.commands import register
from towpath.commands.connection import ApiKey, Server, Url
from towpath.config import load_settings
from towpath.observability.logs import configure_logging

if TYPE_CHECKING:
    from towpath.apply.export import Format
    from towpath.config import Settings
    from towpath.services.api_keys import IssuedKey

app = typer.Typer(help="towpath: self-hosted workflow orchestration.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
console = Console()
# Messages for a person go to stderr; stdout carries only what a script may capture.
notes = Console(stderr=True)


async def _upgrade(url: str) -> None:
    # Imported here: only `towpath db upgrade` needs Alembic.
    from towpath.storage.database import Database
    from towpath.storage.migrate import upgrade

    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()


def _upgrade_in_child() -> None:
    """Migrate in a short-lived process: Alembic's modules stay out of a long-lived one."""
    result = subprocess.run([sys.executable, "-m", "towpath", "db", "upgrade"], check=False)
    if result.returncode != 0:
        raise typer.Exit(result.returncode)


def _upgrade_once_reachable(url: str) -> None:
    """Migrate once the database answers; a migration that fails because the database
    went away again is tried again, any other failure ends the command."""
    from towpath.storage.waiting import wait_for_database

    while True:
        asyncio.run(wait_for_database(url))
        result = subprocess.run([sys.executable, "-m", "towpath", "db", "upgrade"], check=False)
        if result.returncode == 0:
            return
        try:
            asyncio.run(asyncio.wait_for(wait_for_database(url), 1))
        except TimeoutError:
            continue
        raise typer.Exit(result.returncode)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    worker: Annotated[
        bool, typer.Option(help="Also execute runs in this process (--no-worker: API only).")
    ] = True,
) -> None:
    """Apply migrations, then serve the API (and, by default, execute runs)."""
    settings = load_settings()
    # The serving process reads its settings from the environment: the options go there.
    if host is not None:
        os.environ["TOWPATH_HOST"] = settings.host = host
    if port is not None:
        settings.port = port
        os.environ["TOWPATH_PORT"] = str(port)
    if not worker:
        os.environ["TOWPATH_RUN_WORKER"] = "false"
    configure_logging(settings.log_level, settings.log_format)
    # Started beside its database (compose, a reboot), it waits for it instead of exiting.
    _upgrade_once_reachable(settings.database_url)
    first = asyncio.run(_first_admin_key(settings))
    if first is not None:
        console.print(
            "[bold]An admin API key for this server[/bold] (shown once, only its hash is kept):"
            f"\n\n    {first.plaintext}\n\nSend it as `Authorization: Bearer <key>`;"
            " `towpath keys create` makes more."
        )
    console.print(f"towpath {__version__} on http://{settings.host}:{settings.port}")
    sys.stdout.flush()
    # The same process (its id, its signals) becomes the server, without this one's load.
    os.execv(sys.executable, [sys.executable, "-m", "towpath.server"])  # noqa: S606 - our own interpreter, fixed arguments


async def _first_admin_key(settings: Settings) -> IssuedKey | None:
    from towpath.services.api_keys import issue_first_admin_key
    from towpath.storage.database import Database

    db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        return await issue_first_admin_key(db)
    finally:
        await db.dispose()


@app.command("worker")
def worker_command(
    concurrency: Annotated[
        int | None, typer.Option(help="Steps executed at once by this worker.")
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve /metrics and /health on this port (on TOWPATH_HOST)."),
    ] = None,
) -> None:
    """Execute runs: claim ready steps from the database until stopped (SIGINT/SIGTERM)."""
    from towpath.worker_process import run_worker_process

    settings = load_settings()
    if concurrency is not None:
        settings.worker_concurrency = concurrency
    configure_logging(settings.log_level, settings.log_format)
    _upgrade_once_reachable(settings.database_url)
    console.print(f"towpath worker {__version__} on {settings.database_url.split('://')[0]}")
    asyncio.run(run_worker_process(settings, metrics_port))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration not yet applied."""
    settings = load_settings()
    asyncio.run(_upgrade(settings.database_url))
    notes.print("database is up to date", style="dim")


async def _create_key(name: str, role: str, workspace: str, expires_in: float | None) -> IssuedKey:
    from towpath.domain.clock import utcnow
    from towpath.services.api_keys import MADE_BY_CLI, issue_workspace_key
    from towpath.storage.database import Database

    settings = load_settings()
    expires_at = utcnow() + timedelta(days=expires_in) if expires_in is not None else None
    db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        return await issue_workspace_key(
            db, name, role, workspace=workspace, expires_at=expires_at, created_by=MADE_BY_CLI
        )
    finally:
        await db.dispose()


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="admin, editor, operator or viewer.")],
    name: Annotated[str, typer.Option(help="What the key is for, e.g. `ci`.")],
    workspace: Annotated[
        str, typer.Option(help="The workspace's slug; a new slug makes a new workspace.")
    ] = "default",
    expires_in: Annotated[
        float | None, typer.Option(help="Days until the key expires; never by default.", min=0)
    ] = None,
) -> None:
    """Make an API key and print it (only its hash is kept)."""
    from towpath.auth.principal import ROLES

    if role not in ROLES:
        notes.print(f"unknown role {role!r}; use one of {', '.join(ROLES)}", style="red")
        raise typer.Exit(2)
    _upgrade_in_child()
    issued = asyncio.run(_create_key(name, role, workspace, expires_in))
    notes.print(f"{role} key {name!r} of workspace {workspace!r} (shown once):", style="dim")
    # Alone on stdout, so `KEY=$(towpath keys create ...)` captures just the key.
    print(issued.plaintext)


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)


async def _reencrypt_secrets() -> int:
    from towpath.services.secrets import reencrypt_all
    from towpath.storage.database import Database
    from towpath.storage.secret_keys import load_secret_keys

    settings = load_settings()
    db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        return await reencrypt_all(db, await load_secret_keys(db, settings.secrets_key))
    finally:
        await db.dispose()


@db_app.command("reencrypt-secrets")
def reencrypt_secrets() -> None:
    """Encrypt every workspace secret, and every webhook signing secret, again with the
    first key of TOWPATH_SECRETS_KEY, so an older key can then be removed from it."""
    _upgrade_in_child()
    count = asyncio.run(_reencrypt_secrets())
    notes.print(f"{count} secrets encrypted with the first key", style="dim")


@app.command("apply")
def apply_command(
    directory: Annotated[
        Path,
        typer.Option("-f", "--filename", help="A directory of YAML or JSON definition files."),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan and change nothing.")
    ] = False,
    url: Url = None,
    api_key: ApiKey = None,
) -> None:
    """Create or update the workflows, agents, schedules and subscriptions a directory
    defines, over the server's API; what is already so is left unchanged."""
    from towpath.apply.commands import apply_directory
    from towpath.apply.errors import ApplyError

    # The server and key as every command finds them: flags, environment, config file.
    server = Server.of(url, api_key)
    try:
        applying = apply_directory(
            server.url, server.api_key, directory, typer.echo, dry_run=dry_run
        )
        asyncio.run(applying)
    except ApplyError as error:
        typer.echo(f"apply failed: {error}", err=True)
        raise typer.Exit(1) from error


@app.command("export")
def export_command(
    directory: Annotated[Path, typer.Argument(help="Where to write the files.")],
    output_format: Annotated[
        str, typer.Option("--format", help="yaml or json.", case_sensitive=False)
    ] = "yaml",
    url: Url = None,
    api_key: ApiKey = None,
) -> None:
    """Write the server's workflows, agents, schedules and subscriptions as files, one per
    object, that `towpath apply -f` takes back. Secrets' values are never written."""
    from towpath.apply.commands import export_directory
    from towpath.apply.errors import ApplyError

    fmt: Format = "json" if output_format.lower() == "json" else "yaml"
    if output_format.lower() not in ("yaml", "json"):
        typer.echo(f"unknown format {output_format!r}; use yaml or json", err=True)
        raise typer.Exit(2)
    say = functools.partial(typer.echo, err=True)
    server = Server.of(url, api_key)
    try:
        asyncio.run(export_directory(server.url, server.api_key, directory, say, fmt=fmt))
    except ApplyError as error:
        typer.echo(f"export failed: {error}", err=True)
        raise typer.Exit(1) from error


register(app)
