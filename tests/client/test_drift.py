"""The client follows the API: its models and calls are what the live OpenAPI document
generates, and each model has exactly its schema's fields."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from towpath.app import create_app
from towpath.client import calls, models
from towpath.client.generate import SKIPPED_OPERATIONS, calls_module, models_module
from towpath.config import Settings

if TYPE_CHECKING:
    from pydantic import BaseModel

CLIENT = Path(models.__file__).parent
RUFF = Path(sys.executable).with_name("ruff")


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    where = tmp_path_factory.mktemp("openapi")
    found: dict[str, Any] = create_app(
        Settings(database_url=f"sqlite+aiosqlite:///{where}/x.db")
    ).openapi()
    return found


def test_the_committed_client_is_what_the_document_generates(
    document: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "models.py").write_text(models_module(document))
    (tmp_path / "calls.py").write_text(calls_module(document))
    formatted = subprocess.run(  # noqa: S603 - our own formatter, fixed arguments
        [
            str(RUFF),
            "format",
            "--quiet",
            "--config",
            str(CLIENT.parents[2] / "pyproject.toml"),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert formatted.returncode == 0, formatted.stderr
    for name in ("models.py", "calls.py"):
        assert (tmp_path / name).read_text() == (CLIENT / name).read_text(), (
            f"{name} is behind the API: python -m towpath.client.generate openapi.json"
            " src/towpath/client, then ruff format"
        )


def test_every_model_has_the_fields_of_its_schema(document: dict[str, Any]) -> None:
    for name, schema in document["components"]["schemas"].items():
        if "properties" not in schema:
            continue
        model: type[BaseModel] = getattr(models, name)
        fields = {field.alias or key: field for key, field in model.model_fields.items()}
        assert set(fields) == set(schema["properties"]), name
        required = {key for key, field in fields.items() if field.is_required()}
        assert required == set(schema.get("required", [])), name


def test_every_operation_has_a_call(document: dict[str, Any]) -> None:
    for item in document["paths"].values():
        for operation in item.values():
            name = operation["operationId"]
            assert name in SKIPPED_OPERATIONS or callable(getattr(calls, name, None)), name
