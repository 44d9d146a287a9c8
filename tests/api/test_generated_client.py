"""A client generated from the live OpenAPI document (openapi-python-client, no network)
is whole and usable: every operation has a function of its plain name, and a run is
driven end to end through it, with a typed error for an unknown id."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from openapi_python_client.strings import snake_case

from tests.factories import edge, node
from towpath.app import create_app
from towpath.config import Settings

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

    from fastapi import FastAPI

PACKAGE = "towpath_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
WAITS_FOR_APPROVAL = {
    "nodes": [
        node("review", "approval", {"message": "Ship it?"}),
        node("ship", "transform", {"output": {"shipped": True}}),
    ],
    "edges": [edge("review", "ship")],
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client package generated from the document of an app like every test's."""
    where = tmp_path_factory.mktemp("client")
    document = create_app(Settings(database_url=f"sqlite+aiosqlite:///{where}/x.db")).openapi()
    (where / "openapi.json").write_text(json.dumps(document))
    # No post hooks: formatting the output is not what is tested, and costs seconds.
    (where / "config.json").write_text(
        json.dumps({"package_name_override": PACKAGE, "post_hooks": []})
    )
    command = [
        str(GENERATOR), "generate", "--path", str(where / "openapi.json"),
        "--output-path", str(where / PACKAGE), "--meta", "none",
        "--config", str(where / "config.json"),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=where, check=False)  # noqa: S603 - our own tool, fixed arguments
    assert done.returncode == 0, done.stdout + done.stderr
    # A part of the document the generator cannot read is left out of the client, with a
    # warning: none may be.
    assert "Unable to" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def operation(group: str, name: str) -> Any:
    # A tag is a module named as the generator names it ("profile: executions" is
    # profile_executions).
    return importlib.import_module(f"{PACKAGE}.api.{snake_case(group)}.{name}")


def test_every_operation_is_a_function_of_its_name(generated: ModuleType, app: FastAPI) -> None:
    for item in app.openapi()["paths"].values():
        for found in item.values():
            assert hasattr(operation(found["tags"][0], found["operationId"]), "asyncio_detailed")


async def test_a_run_driven_through_the_generated_client(
    generated: ModuleType, app: FastAPI, auth_headers: dict[str, str]
) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    api = generated.AuthenticatedClient(
        base_url="http://towpath.test",
        token=auth_headers["Authorization"].removeprefix("Bearer "),
        raise_on_unexpected_status=True,
        httpx_args={"transport": httpx.ASGITransport(app=app)},
    )
    async with api:
        body = models.WorkflowCreate.from_dict({"name": "ship", "definition": WAITS_FOR_APPROVAL})
        created = await operation("workflows", "create_workflow").asyncio(client=api, body=body)
        assert isinstance(created, models.WorkflowResponse)

        published = await operation("workflows", "publish_workflow").asyncio(created.id, client=api)
        assert published.status == models.WorkflowResponseStatus.PUBLISHED

        started = await operation("runs", "start_run").asyncio_detailed(
            created.id, client=api, body=models.RunInput.from_dict({"input": {"order": 42}})
        )
        assert started.status_code == 201
        run = started.parsed
        assert isinstance(run, models.RunResponse)
        assert run.input_.to_dict() == {"order": 42}

        read = await operation("runs", "get_run").asyncio(run.id, client=api)
        assert isinstance(read, models.RunResponse)
        assert read.status == models.RunResponseStatus.WAITING

        approve = models.ApproveInput(approved=True)
        answered = await operation("runs", "approve_run").asyncio(run.id, client=api, body=approve)
        assert isinstance(answered, models.RunResponse)
        assert answered.status == models.RunResponseStatus.COMPLETED
        assert answered.context.to_dict()["ship"] == {"shipped": True}

        missing = await operation("runs", "get_run").asyncio_detailed("no-such-run", client=api)
        assert missing.status_code == 404
        assert isinstance(missing.parsed, models.ErrorResponse)
        assert missing.parsed.error_code == "RUN_NOT_FOUND"
