"""The migrations build exactly the schema the models describe, and go back down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from towpath.storage.migrate import downgrade, upgrade
from towpath.storage.models import Base, Workspace

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from towpath.storage.database import Database


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_models_match_the_migrated_schema(db: Database) -> None:
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_downgrade_removes_every_table_and_upgrade_restores_them(
    private_db: Database,
) -> None:
    await downgrade(private_db, "base")
    async with private_db.engine.connect() as conn:
        assert await conn.run_sync(lambda c: inspect(c).get_table_names()) == ["alembic_version"]

    await upgrade(private_db)

    async with private_db.engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert set(Base.metadata.tables) <= tables


async def test_times_come_back_as_the_same_utc_moment(db: Database) -> None:
    moment = datetime(2026, 5, 1, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    async with db.transaction() as session:
        session.add(Workspace(slug="tz", name="tz", created_at=moment))

    async with db.read() as session:
        found = await session.scalar(select(Workspace).where(Workspace.slug == "tz"))

    assert found is not None
    assert found.created_at == moment
    assert found.created_at.tzinfo == UTC
