"""Reading one row of a workspace by id: another workspace's row is as good as missing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.ext.asyncio import AsyncSession

RowT = TypeVar("RowT")


async def get_scoped(
    session: AsyncSession,
    model: type[RowT],
    workspace_id: str,
    row_id: str,
    missing: Callable[[str], Exception],
    *,
    for_update: bool = False,
) -> RowT:
    table: Any = model
    stmt = select(model).where(table.id == row_id, table.workspace_id == workspace_id)
    if for_update:
        stmt = stmt.with_for_update()
    found: RowT | None = await session.scalar(stmt)
    if found is None:
        raise missing(row_id)
    return found
