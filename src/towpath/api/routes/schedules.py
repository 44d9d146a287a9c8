"""Schedules of the caller's workspace: made or changed, read with their next fire times,
paused, fired now and backfilled."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from towpath.api.control_keys import OnceKey
from towpath.api.deps import DB, Editor, Idempotency, Operator, Rules, RuntimeDep, Viewer
from towpath.api.paging import paging
from towpath.api.responses import LISTED, mark_created, set_total
from towpath.api.schemas.errors import WITH_BODY, Responses, errors
from towpath.api.schemas.links import created_or_replayed
from towpath.api.schemas.schedules import (
    BackfillInput,
    BackfillResponse,
    FireInput,
    FireResponse,
    PauseInput,
    ScheduleCreate,
    ScheduleDetail,
    ScheduleResponse,
    detail_response,
    taken_response,
)
from towpath.storage.pagination import PageRequest
from towpath.storage.schedules import FIRES_SORTABLE, SORTABLE
from towpath.triggers import backfills
from towpath.triggers import schedules as service

router = APIRouter(tags=["schedules"])
SchedulePages = Annotated[PageRequest, paging(SORTABLE, "-created_at")]
FirePages = Annotated[PageRequest, paging(FIRES_SORTABLE, "-scheduled_at")]
CHANGES = {**WITH_BODY, **errors(404, 409)}


CHANGED: Responses = {
    200: {"model": ScheduleResponse, "description": "The schedule of this name, changed."}
}
CREATED: Responses = created_or_replayed(
    "The new schedule",
    "The schedule an earlier request with this idempotency key made",
    ScheduleResponse,
    {},
)


@router.post("/triggers/schedule", status_code=201, responses={**CHANGED, **CHANGES})
async def put_schedule_trigger(
    body: ScheduleCreate, db: DB, caller: Editor, response: Response
) -> ScheduleResponse:
    """Make the schedule of this name (201), or change it (200)."""
    schedule, made = await service.upsert(db, caller, body.as_input())
    response.status_code = 201 if made else 200
    return ScheduleResponse.model_validate(schedule)


@router.get("/schedules", responses=LISTED)
async def list_schedules(
    db: DB, caller: Viewer, page: SchedulePages, response: Response
) -> list[ScheduleResponse]:
    found = await service.list_schedules(db, caller, page)
    set_total(response, found)
    return [ScheduleResponse.model_validate(schedule) for schedule in found.items]


@router.post("/schedules", status_code=201, responses={**CREATED, **CHANGES})
async def create_schedule(
    body: ScheduleCreate, db: DB, caller: Editor, rules: Rules, key: Idempotency, response: Response
) -> ScheduleResponse:
    made, replayed = await service.create(
        db, caller, body.as_input(), key=key, policy=rules.idempotency
    )
    mark_created(response, replayed)
    return ScheduleResponse.model_validate(made)


@router.get("/schedules/{schedule_id}", responses=errors(404))
async def get_schedule(schedule_id: str, db: DB, caller: Viewer) -> ScheduleDetail:
    """The schedule, its next five fire times and its last ten ticks."""
    return detail_response(await service.get(db, caller, schedule_id))


@router.put("/schedules/{schedule_id}", responses=CHANGES)
async def update_schedule(
    schedule_id: str, body: ScheduleCreate, db: DB, caller: Editor
) -> ScheduleResponse:
    """Replace the schedule; its ticks go on from now."""
    changed = await service.update(db, caller, schedule_id, body.as_input())
    return ScheduleResponse.model_validate(changed)


@router.delete("/schedules/{schedule_id}", status_code=204, responses=errors(404))
async def delete_schedule(schedule_id: str, db: DB, caller: Editor) -> Response:
    """Delete the schedule and its ticks; its runs stay."""
    await service.delete(db, caller, schedule_id)
    return Response(status_code=204)


@router.post("/schedules/{schedule_id}/pause", responses={**WITH_BODY, **errors(404)})
async def pause_schedule(
    schedule_id: str, db: DB, caller: Editor, body: PauseInput | None = None
) -> ScheduleResponse:
    reason = (body or PauseInput()).reason
    paused = await service.set_paused(db, caller, schedule_id, True, reason)
    return ScheduleResponse.model_validate(paused)


@router.post("/schedules/{schedule_id}/unpause", responses=errors(404))
async def unpause_schedule(schedule_id: str, db: DB, caller: Editor) -> ScheduleResponse:
    """Ticks go on from now: those that fell while it was paused do not fire."""
    unpaused = await service.set_paused(db, caller, schedule_id, False, None)
    return ScheduleResponse.model_validate(unpaused)


@router.post("/schedules/{schedule_id}/trigger", status_code=201, responses=CHANGES)
async def trigger_schedule(
    schedule_id: str,
    runtime: RuntimeDep,
    caller: Operator,
    key: OnceKey,
    body: FireInput | None = None,
) -> FireResponse:
    """A tick now, under the schedule's overlap policy unless the body names another.
    Repeated with the same `X-Idempotency-Key`, it answers the first tick again."""
    given = body or FireInput()

    async def act() -> FireResponse:
        return taken_response(await backfills.trigger(runtime, caller, schedule_id, given.overlap))

    return await key.answer(schedule_id, given.model_dump(mode="json"), FireResponse, act)


@router.post("/schedules/{schedule_id}/backfill", responses=CHANGES)
async def backfill_schedule(
    schedule_id: str, body: BackfillInput, runtime: RuntimeDep, caller: Operator
) -> BackfillResponse:
    """Every tick of the spec from `start` until `end`, in order; a tick taken before is
    not taken again."""
    window = (body.start, body.end)
    taken, before = await backfills.backfill(runtime, caller, schedule_id, window, body.overlap)
    return BackfillResponse(fires=[taken_response(t) for t in taken], already_taken=before)


@router.get("/schedules/{schedule_id}/fires", responses={**LISTED, **errors(404)})
async def list_schedule_fires(
    schedule_id: str, db: DB, caller: Viewer, page: FirePages, response: Response
) -> list[FireResponse]:
    """Every tick taken, newest first: what it did and the run it started."""
    found = await service.fires(db, caller, schedule_id, page)
    set_total(response, found)
    return [FireResponse.model_validate(fire) for fire in found.items]
