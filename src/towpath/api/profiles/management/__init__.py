"""The `management` profile: the contract of the founding document `003_3ff6052acf5fc0f8.txt`.

Of its paths only `POST /api/v1/workflows/{id}/execute` is not towpath's own
(`execution`); its agents, workflows (a published workflow's update makes the next
version), runs with `triggered_by`, `/health/ready` and `/metrics` are towpath's own routes.
"""

from __future__ import annotations

from towpath.api.profiles.management.execution import router

__all__ = ["router"]
