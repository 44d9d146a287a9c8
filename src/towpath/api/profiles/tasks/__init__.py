"""The `tasks` profile: the contract of the founding document `004_1ece73cab027ed70.txt`."""

from __future__ import annotations

from fastapi import APIRouter

from towpath.api.profiles.tasks import metrics, runs, sockets, tasks

# A tag a generated client can name a module after as it is (tests/api/test_generated_client).
router = APIRouter(tags=["profile: tasks"])
for part in (tasks, runs, metrics, sockets):
    router.include_router(part.router)
