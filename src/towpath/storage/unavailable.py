"""Whether an error means the database is away for a moment (restarting, failing over,
cut off, full): the same work may well succeed a little later."""

from __future__ import annotations

from typing import TYPE_CHECKING

from asyncpg.exceptions import (
    InsufficientResourcesError,
    InterfaceError,
    InternalClientError,
    OperatorInterventionError,
    PostgresConnectionError,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

if TYPE_CHECKING:
    from collections.abc import Callable

# OSError: refused, reset, timed out, no route to the host.
_AWAY = (
    OSError,
    PostgresConnectionError,
    OperatorInterventionError,
    InsufficientResourcesError,
)
# What asyncpg says of a connection that a restart is closing under it: closed, or still
# in the middle of an operation that can no longer finish (the server's last error was
# read, its reply or its closing not yet), as when the pool hands that connection out.
_BROKEN_CONNECTION = ("connection is closed", "another operation")


def database_away(error: BaseException | None) -> bool:
    """Whether `error` or one of the errors behind it (its cause, or the one it was raised
    while handling: SQLAlchemy wraps the driver's, a rollback fails after a lost query)
    says so."""
    return _behind(error, _says_away)


def database_busy(error: BaseException | None) -> bool:
    """Whether no connection of the pool came free in time: every one was in use (the
    process has more work than connections), and the same work may succeed later."""
    return _behind(error, lambda found: isinstance(found, PoolTimeout))


def _behind(error: BaseException | None, says: Callable[[BaseException], bool]) -> bool:
    seen: set[int] = set()
    pending = [error]
    while pending:
        found = pending.pop()
        if found is None or id(found) in seen or len(seen) > 20:
            continue
        seen.add(id(found))
        if says(found):
            return True
        pending += [found.__cause__, found.__context__]
    return False


def _says_away(error: BaseException) -> bool:
    if isinstance(error, _AWAY):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, InterfaceError | InternalClientError) and any(
        words in str(error) for words in _BROKEN_CONNECTION
    )
