"""The process's announcements of access that changed, for the routes that change it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from towpath.events.access import AccessNotices


async def access_notices(request: Request) -> AccessNotices:
    found: AccessNotices = request.app.state.access_notices
    return found


Notices = Annotated[AccessNotices, Depends(access_notices)]
