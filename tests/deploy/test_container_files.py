"""The Dockerfile and compose.yaml at the repository's root: what they run is towpath's
own command line (an API process and a worker process on PostgreSQL), the files they copy
exist and reach the build, and, where a container engine is installed, they build."""

from __future__ import annotations

import fnmatch
import json
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.main import get_command

from towpath.cli import app
from towpath.config import Settings

ROOT = Path(__file__).resolve().parents[2]
ENGINE = shutil.which("docker") or shutil.which("podman")


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions, continued lines joined, comments left out."""
    found: list[tuple[str, str]] = []
    pending = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.lstrip().startswith("#") or not (pending or line.strip()):
            continue
        pending += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            word, _, rest = pending.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
            pending = ""
    return found


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def accepted(argv: list[str]) -> None:
    """`towpath <argv>` parses: the command and each option exist (nothing is run)."""
    group = get_command(app)
    context = group.make_context("towpath", list(argv), resilient_parsing=True)
    command = group.get_command(context, argv[0])  # type: ignore[attr-defined]
    assert command is not None, argv
    command.make_context(argv[0], list(argv[1:]), parent=context)


def test_the_image_serves_towpath_on_its_port() -> None:
    steps = instructions()
    words = [word for word, _ in steps]
    entry = json.loads(dict(steps)["ENTRYPOINT"])
    default = json.loads(dict(steps)["CMD"])
    environment = dict(
        pair.split("=", 1) for word, rest in steps if word == "ENV" for pair in shlex.split(rest)
    )
    health = next(rest for word, rest in steps if word == "HEALTHCHECK")

    assert words.count("FROM") == 2
    assert all(rest.startswith("python:3.11") for word, rest in steps if word == "FROM")
    assert entry == ["towpath"]
    accepted(default)
    assert environment["TOWPATH_HOST"] == "0.0.0.0"  # noqa: S104 - a container's interface
    assert dict(steps)["EXPOSE"] == environment["TOWPATH_PORT"] == "8000"
    assert Settings(database_url=environment["TOWPATH_DATABASE_URL"]).is_sqlite
    assert dict(steps)["USER"] != "root"
    probe = json.loads(health.split(" CMD ", 1)[1])
    assert probe[:2] == ["python", "-c"]
    assert "/health/ready" in probe[2]
    compile(probe[2], "healthcheck", "exec")


def test_what_the_image_copies_exists_and_is_not_ignored() -> None:
    ignored = [
        line
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    copied = [
        source
        for word, rest in instructions()
        if word == "COPY" and not rest.startswith("--from")
        for source in rest.split()[:-1]
    ]

    assert copied == ["pyproject.toml", "README.md", "src"]
    for source in copied:
        assert (ROOT / source).exists(), source
        # The last matching rule wins; `!` lets a path back in.
        kept = True
        for rule in ignored:
            if fnmatch.fnmatch(source, rule.lstrip("!").rstrip("/")):
                kept = rule.startswith("!")
        assert kept, source


def test_compose_runs_an_api_and_a_worker_on_postgres() -> None:
    services = compose()["services"]
    api, worker, postgres = services["api"], services["worker"], services["postgres"]

    assert postgres["image"].startswith("postgres:")
    assert api["command"] == ["serve", "--no-worker"]
    assert worker["command"][0] == "worker"
    for argv in (api["command"], worker["command"]):
        accepted(argv)
    for service in (api, worker):
        assert service["build"] == "."
        url = service["environment"]["TOWPATH_DATABASE_URL"]
        assert url.startswith("postgresql+asyncpg://towpath:")
        assert url.endswith("@postgres:5432/towpath")
        assert not Settings(database_url=url).is_sqlite
    assert api["ports"] == ["8000:8000"]
    assert api["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    # Migrations are the API process's: a worker starts once it is ready.
    assert worker["depends_on"] == {"api": {"condition": "service_healthy"}}
    port = worker["command"][worker["command"].index("--metrics-port") + 1]
    assert f":{port}/health" in worker["healthcheck"]["test"][-1]


def _answers(*argv: str) -> bool:
    try:
        done = subprocess.run(argv, capture_output=True, timeout=30, check=False)  # noqa: S603 - fixed arguments
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.fixture(scope="module")
def engine() -> str:
    """A container engine whose daemon answers; the test is skipped without one (a client
    alone, with no daemon, builds nothing)."""
    if ENGINE is None or not _answers(ENGINE, "info"):
        pytest.skip("no container engine (docker, podman) running here")
    return ENGINE


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603 - fixed arguments


def test_the_files_build(engine: str) -> None:
    if _answers(engine, "compose", "version"):
        checked = _run(engine, "compose", "-f", str(ROOT / "compose.yaml"), "config", "--quiet")
        assert checked.returncode == 0, checked.stderr
    built = _run(engine, "build", "--tag", "towpath:test", str(ROOT))
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    version = _run(engine, "run", "--rm", "towpath:test", "version")
    assert version.returncode == 0, version.stderr
