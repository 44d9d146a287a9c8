"""A start that follows a lineage runs its newest published version, whichever id names it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from tests.factories import node
from tests.runs import API, publish
from towpath.auth.principal import Principal
from towpath.domain.errors import WorkflowNotFound, WorkflowNotPublished
from towpath.services import runs
from towpath.services.idempotency import IdempotencyPolicy
from towpath.storage.models import Workflow

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

DEFINITION = {"nodes": [node("t", "transform", {"output": {"v": 1}})], "edges": []}


async def _version(client: httpx.AsyncClient, workflow_id: str, v: int) -> str:
    """A new version of the lineage whose transform answers `v`, published."""
    made = await client.post(f"{API}/workflows/{workflow_id}/duplicate")
    assert made.status_code == 201, made.text
    new_id: str = made.json()["id"]
    body = {"definition": {**DEFINITION, "nodes": [node("t", "transform", {"output": {"v": v}})]}}
    changed = await client.put(f"{API}/workflows/{new_id}", json=body)
    assert changed.status_code == 200, changed.text
    assert (await client.post(f"{API}/workflows/{new_id}/publish")).status_code == 200
    return new_id


async def _caller(app: FastAPI, workflow_id: str) -> Principal:
    async with app.state.runtime.db.read() as session:
        workspace_id = await session.scalar(
            select(Workflow.workspace_id).where(Workflow.id == workflow_id)
        )
    assert workspace_id is not None
    return Principal("key:test", workspace_id, "operator")


async def test_latest_follows_the_lineage_from_any_version(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    first = await publish(client, DEFINITION)
    second = await _version(client, first, 2)
    caller = await _caller(app, first)
    runtime = app.state.runtime

    for named in (first, second):
        run, _, _ = await runs.start(
            runtime, caller, named, {}, None, IdempotencyPolicy(), latest=True
        )
        assert run.workflow_id == second

    # A draft made after the last publish is not what runs.
    drafted = await client.post(f"{API}/workflows/{second}/duplicate")
    assert drafted.status_code == 201
    run, _, _ = await runs.start(runtime, caller, first, {}, None, IdempotencyPolicy(), latest=True)
    assert run.workflow_id == second
    # Without `latest`, the id named is the version that runs.
    run, _, _ = await runs.start(runtime, caller, first, {}, None, IdempotencyPolicy())
    assert run.workflow_id == first


async def test_latest_of_a_lineage_with_nothing_published_says_why(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    created = await client.post(f"{API}/workflows", json={"name": "d", "definition": DEFINITION})
    draft = created.json()["id"]
    caller = await _caller(app, draft)
    runtime = app.state.runtime

    with pytest.raises(WorkflowNotPublished):
        await runs.start(runtime, caller, draft, {}, None, IdempotencyPolicy(), latest=True)
    other = Principal("key:other", "another-workspace", "operator")
    with pytest.raises(WorkflowNotFound):
        await runs.start(runtime, other, draft, {}, None, IdempotencyPolicy(), latest=True)
