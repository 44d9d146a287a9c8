"""Access that ended or changed (an API key revoked, a member removed or given another
role), announced to everything in a process that holds on to access: the streams opened
with it, and what the process cached about it. On PostgreSQL every process hears of it
through `NOTIFY towpath_access`, sent by the database when the change commits."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    Listener = Callable[["AccessChange"], None]
    # Why the grant (of that workspace) no longer holds, or None while it does.
    GrantCheck = Callable[[str, str], Awaitable[str | None]]

log = logging.getLogger("towpath.events")

# Written by the triggers of migration 7c41e2a9d5b3.
CHANNEL = "towpath_access"


class Reader(Protocol):
    """Who reads a stream (a principal): what its access stands on."""

    @property
    def subject(self) -> str: ...

    @property
    def grant(self) -> str | None: ...


@dataclass(frozen=True)
class AccessChange:
    workspace_id: str
    # The principal's subject, as streams and the audit log know it: "key:<id>", "user:<sub>".
    subject: str
    # What the access stood on: "key:<id>" or "member:<id>".
    grant: str
    # The role the grant holds now; None when it is gone (revoked, removed).
    role: str | None

    @property
    def ends_reading(self) -> bool:
        """Streams need only to read, which every role may: a grant that is gone ends
        them, a lowered role does not."""
        return self.role is None

    @property
    def reason(self) -> str:
        if self.grant.startswith("key:"):
            return "the API key was revoked"
        if self.role is None:
            return "the member was removed from the workspace"
        return f"the member's role is now {self.role}"

    @classmethod
    def key_revoked(cls, workspace_id: str, key_id: str) -> AccessChange:
        return cls(workspace_id, f"key:{key_id}", f"key:{key_id}", None)

    @classmethod
    def member_changed(
        cls, workspace_id: str, member_id: str, subject: str, role: str | None
    ) -> AccessChange:
        return cls(workspace_id, f"user:{subject}", f"member:{member_id}", role)


def parse_notice(payload: str) -> AccessChange | None:
    """`key <workspace_id> <key_id>` or `member <workspace_id> <member_id> <role|-> <subject>`."""
    kind, _, rest = payload.partition(" ")
    if kind == "key":
        parts = rest.split(" ")
        if len(parts) == 2 and all(parts):
            return AccessChange.key_revoked(parts[0], parts[1])
    elif kind == "member":
        parts = rest.split(" ", 3)
        if len(parts) == 4 and all(parts):
            workspace_id, member_id, role, subject = parts
            return AccessChange.member_changed(
                workspace_id, member_id, subject, None if role == "-" else role
            )
    log.warning("unexpected access notification %r", payload)
    return None


class AccessNotices:
    """The process's announcements of access changes: made after the change commits, by
    the use case that made it or, for other processes' changes, by the notification
    listener. Listeners must not mind hearing of one change twice."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._missed: list[Callable[[], None]] = []

    def listen(self, listener: Listener, missed: Callable[[], None]) -> None:
        """`listener` hears each change; `missed` that changes may have gone unheard (the
        notification connection was lost)."""
        self._listeners.append(listener)
        self._missed.append(missed)

    def announce(self, change: AccessChange) -> None:
        for listener in list(self._listeners):
            listener(change)

    def announce_missed(self) -> None:
        for missed in list(self._missed):
            missed()
