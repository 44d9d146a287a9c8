"""The pruner runs beside the scheduler of a process that runs a worker: a finished run
past its policy is gone without anyone asking."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import update

from tests.retention.trees import NOOP, finished_run
from tests.runs import API, publish
from tests.waiting import eventually
from towpath.config import Settings
from towpath.domain.clock import utcnow
from towpath.storage.models import Run

if TYPE_CHECKING:
    import httpx

    from towpath.storage.database import Database


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        rate_limit_address_per_minute=0,
        rate_limit_credential_per_minute=0,
        retention_interval_seconds=0.05,
    )


async def test_the_server_prunes_on_its_own(client: httpx.AsyncClient, db: Database) -> None:
    workflow_id = await publish(client, NOOP)
    old, recent = await finished_run(client, workflow_id), await finished_run(client, workflow_id)
    async with db.transaction() as session:
        ended = utcnow() - timedelta(days=8)
        await session.execute(update(Run).where(Run.id == old).values(completed_at=ended))

    await client.put(f"{API}/retention", json={"finished_runs_days": 7})

    async def gone() -> bool:
        return (await client.get(f"{API}/runs/{old}")).status_code == 404

    await eventually(gone, 10, "the old run pruned")
    assert (await client.get(f"{API}/runs/{recent}")).status_code == 200
