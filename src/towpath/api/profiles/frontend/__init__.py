"""The `frontend` profile: the contract of the founding document `000_1b551751913f3aac.txt`.

Its paths are towpath's own under /api/v1 but for the two its front end's client calls
(`aliases`); `POST /runs/{id}/resume` without a body is towpath's own route.
"""

from __future__ import annotations

from towpath.api.profiles.frontend.aliases import router

__all__ = ["router"]
