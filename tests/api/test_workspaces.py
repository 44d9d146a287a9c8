"""A resource of another workspace is a 404, never visible."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.factories import branching_definition
from towpath.domain.ids import new_id
from towpath.storage.models import Workflow
from towpath.storage.workspaces import ensure_workspace

if TYPE_CHECKING:
    import httpx

    from towpath.storage.database import Database

API = "/api/v1/workflows"


async def test_another_workspaces_workflow_is_invisible(
    client: httpx.AsyncClient, db: Database
) -> None:
    async with db.transaction() as session:
        other = await ensure_workspace(session, "other-team")
        theirs = new_id()
        session.add(
            Workflow(
                id=theirs,
                lineage_id=theirs,
                workspace_id=other.id,
                name="theirs",
                definition=branching_definition(),
                input_schema=None,
            )
        )

    assert (await client.get(API)).json() == []
    for method, path in [
        ("GET", f"{API}/{theirs}"),
        ("PUT", f"{API}/{theirs}"),
        ("DELETE", f"{API}/{theirs}"),
        ("POST", f"{API}/{theirs}/publish"),
        ("POST", f"{API}/{theirs}/validate"),
        ("POST", f"{API}/{theirs}/duplicate"),
        ("GET", f"{API}/{theirs}/versions"),
    ]:
        response = await client.request(method, path, json={} if method == "PUT" else None)
        assert response.status_code == 404, (method, path)
    async with db.read() as session:
        row = await session.get(Workflow, theirs)
        assert row is not None
        assert row.deleted_at is None
        assert row.status == "draft"
