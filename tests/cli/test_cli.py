"""The command line, and `towpath serve` as a new user starts it."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import httpx
import pytest
import typer
from typer.testing import CliRunner

from towpath import __version__
from towpath.cli import app
from towpath.commands.runs import json_object

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["version"])

    assert result.exit_code == 0
    assert __version__ in result.output


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    result = runner.invoke(app, ["db", "upgrade"], env={"TOWPATH_DATABASE_URL": url})
    again = runner.invoke(app, ["db", "upgrade"], env={"TOWPATH_DATABASE_URL": url})

    assert result.exit_code == 0, result.output
    assert again.exit_code == 0
    assert (tmp_path / "fresh.db").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _printed_key(server: subprocess.Popen[bytes]) -> str:
    """The admin key a first start prints, read from the server's output."""
    assert server.stdout is not None
    for line in server.stdout:
        found = re.search(rb"tp_[A-Za-z0-9_-]+", line)
        if found:
            return found.group().decode()
    raise AssertionError("the server printed no admin key")


def test_serve_migrates_and_answers(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "TOWPATH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 't.db'}"}
    server = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "towpath", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        key = _printed_key(server)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                ready = httpx.get(f"{base}/health/ready", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        refused = httpx.post(f"{base}/api/v1/workflows", json={"name": "first"}, timeout=5)
        created = httpx.post(
            f"{base}/api/v1/workflows",
            json={"name": "first"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=5,
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
        assert server.stdout is not None
        server.stdout.close()

    assert ready.status_code == 200
    assert refused.status_code == 401
    assert created.status_code == 201
    assert created.json()["status"] == "draft"


def test_keys_create_prints_a_working_key_and_refuses_unknown_roles(tmp_path: Path) -> None:
    env = {"TOWPATH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"}
    made = runner.invoke(
        app, ["keys", "create", "--role", "viewer", "--name", "ci", "--workspace", "team"], env=env
    )
    wrong = runner.invoke(app, ["keys", "create", "--role", "owner", "--name", "x"], env=env)

    assert made.exit_code == 0, made.output
    assert re.search(r"tp_[a-z0-9]{12}_[A-Za-z0-9_-]{43}", made.stdout)
    assert wrong.exit_code == 2


def test_a_json_option_reads_a_file_or_standard_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = tmp_path / "input.json"
    big = {"rows": ["x" * 100] * 2000}  # over the 128 KB an argument list holds
    given.write_text(json.dumps(big))

    assert json_object(f"@{given}", "--input") == big
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"n": 1}'))
    assert json_object("@-", "--input") == {"n": 1}
    with pytest.raises(typer.BadParameter, match="cannot read"):
        json_object(f"@{tmp_path / 'missing.json'}", "--input")
    assert json_object('{"at": "@home"}', "--input") == {"at": "@home"}
