"""The lock an event post and a step that starts waiting for that event both take.

On PostgreSQL a post reads the waiting steps while transitions commit beside it: without
a lock, a step could start waiting after the post's read yet commit before the post, and
that event would pass it by. A transition that makes a `wait_for_event` step wait holds
the lock shared; a post holds it alone. So a post either waits for that transition's
commit and then finds the step, or commits first and the step waits for the next event.
SQLite has one writer: every transition is already in one order, and no lock is taken."""

from __future__ import annotations

from typing import TYPE_CHECKING

from towpath.engine.sql import fetch

if TYPE_CHECKING:
    from towpath.engine.sql import Dialect, Gen


def hold_event_name(d: Dialect, workspace_id: str, name: str, *, alone: bool) -> Gen[None]:
    """Until the transaction ends: one workspace's event name, alone (a post) or shared
    (a step starting to wait for it)."""
    if not d.is_postgres:
        return
    kind = "pg_advisory_xact_lock" if alone else "pg_advisory_xact_lock_shared"
    yield from fetch(f"SELECT {kind}(hashtextextended(?, 0))", f"{workspace_id}\x1f{name}")
