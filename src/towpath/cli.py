"""The `towpath` command line."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from towpath import __version__
from towpath.config import load_settings

app = typer.Typer(help="towpath: self-hosted workflow orchestration.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console()


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


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    worker: Annotated[
        bool, typer.Option(help="Also execute runs in this process (--no-worker: API only).")
    ] = True,
) -> None:
    """Apply migrations, then serve the API (and, by default, execute runs)."""
    from towpath.app import create_app

    settings = load_settings()
    if host is not None:
        settings.host = host
    if port is not None:
        settings.port = port
    settings.run_worker = settings.run_worker and worker
    _upgrade_in_child()
    console.print(f"towpath {__version__} on http://{settings.host}:{settings.port}")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        proxy_headers=True,
    )


@app.command("worker")
def worker_command(
    concurrency: Annotated[
        int | None, typer.Option(help="Steps executed at once by this worker.")
    ] = None,
) -> None:
    """Execute runs: claim ready steps from the database until stopped (SIGINT/SIGTERM)."""
    from towpath.engine.process import run_worker_process

    settings = load_settings()
    if concurrency is not None:
        settings.worker_concurrency = concurrency
    _upgrade_in_child()
    console.print(f"towpath worker {__version__} on {settings.database_url.split('://')[0]}")
    asyncio.run(run_worker_process(settings))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration not yet applied."""
    settings = load_settings()
    asyncio.run(_upgrade(settings.database_url))
    console.print("database is up to date", style="dim")


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)
