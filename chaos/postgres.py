"""PostgreSQL for the chaos runs: a cluster of this run's own, restarted at will.

By default `initdb` makes a throwaway cluster in a temporary directory on a free port, so
that restarting it disturbs no one else's database on a shared machine. With
`--postgres URL` an existing server is used instead (a database `chaos_<pid>` is made in
it and dropped at the end) and restarted with `pg_ctlcluster <version> main restart`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import asyncpg
from bench.common import free_port
from sqlalchemy.engine import make_url


def _version() -> str:
    """The installed PostgreSQL's major version, as `/etc/postgresql` names it."""
    found = sorted(p.name for p in Path("/etc/postgresql").glob("*"))
    return found[0] if found else "15"


VERSION = _version()
BIN = Path(f"/usr/lib/postgresql/{VERSION}/bin")


def _as_postgres(command: list[str]) -> list[str]:
    # initdb and the server refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Postgres:
    def __init__(self, shared_url: str | None = None) -> None:
        self.shared_url = shared_url
        self.data: Path | None = None
        self.base_url = shared_url or ""
        self.url = ""

    def start(self) -> None:
        if self.shared_url is None:
            self.data = Path(tempfile.mkdtemp(prefix="chaos-pg-"))
            if os.geteuid() == 0:
                shutil.chown(self.data, "postgres", "postgres")
            port = free_port()
            subprocess.run(
                _as_postgres(
                    [str(BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"]
                ),
                check=True,
                capture_output=True,
            )
            options = (
                f"-p {port} -k {self.data} -c listen_addresses=127.0.0.1 -c max_connections=300"
            )
            self._ctl("start", "-o", options)
            self.base_url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"

    def _ctl(self, action: str, *more: str) -> None:
        assert self.data is not None
        log = str(self.data / "server.log")
        subprocess.run(
            _as_postgres(
                [str(BIN / "pg_ctl"), action, "-D", str(self.data), "-l", log, "-w", *more]
            ),
            check=True,
            capture_output=True,
        )

    def restart(self, *, crash: bool = False) -> None:
        """Restart the server; `crash` stops it as a power cut would (immediate mode,
        crash recovery at the next start)."""
        if self.data is None:
            restart = ["pg_ctlcluster", "--skip-systemctl-redirect", VERSION, "main", "restart"]
            subprocess.run(restart, check=True)
        else:
            self._ctl("restart", "-m", "immediate" if crash else "fast")

    def stop(self) -> None:
        if self.data is not None:
            self._ctl("stop", "-m", "immediate")
            shutil.rmtree(self.data, ignore_errors=True)

    async def create_database(self) -> str:
        name = f"chaos_{os.getpid()}"
        conn = await asyncpg.connect(_dsn(self.base_url))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.url = make_url(self.base_url).set(database=name).render_as_string(False)
        return self.url

    async def drop_database(self) -> None:
        if not self.url:
            return
        conn = await asyncpg.connect(_dsn(self.base_url))
        try:
            await conn.execute(
                f'DROP DATABASE IF EXISTS "{make_url(self.url).database}" WITH (FORCE)'
            )
        finally:
            await conn.close()


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
