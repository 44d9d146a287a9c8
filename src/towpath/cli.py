"""The `towpath` command line."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from towpath import __version__
from towpath.config import load_settings
from towpath.storage.database import Database
from towpath.storage.migrate import upgrade

app = typer.Typer(help="towpath: self-hosted workflow orchestration.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console()


async def _upgrade(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Apply migrations, then serve the API."""
    from towpath.app import create_app

    settings = load_settings()
    if host is not None:
        settings.host = host
    if port is not None:
        settings.port = port
    asyncio.run(_upgrade(settings.database_url))
    console.print(f"towpath {__version__} on http://{settings.host}:{settings.port}")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        proxy_headers=True,
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration not yet applied."""
    settings = load_settings()
    asyncio.run(_upgrade(settings.database_url))
    console.print("database is up to date")


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)
