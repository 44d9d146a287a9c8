"""Schedule requests and responses."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from towpath.api.schemas.strict import Moment, RequestModel
from towpath.triggers.overlap import Overlap
from towpath.triggers.schedule_spec import Interval, ScheduleSpec
from towpath.triggers.schedules import ScheduleInput

if TYPE_CHECKING:
    from towpath.triggers.schedules import ScheduleView
    from towpath.triggers.ticks import Taken

DAY = 86_400


class IntervalInput(RequestModel):
    every_seconds: int = Field(ge=1, le=366 * DAY)
    offset_seconds: int = Field(default=0, ge=0, le=366 * DAY)


class ScheduleSpecInput(RequestModel):
    cron: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Cron expressions of 5 fields, read in `timezone`, e.g. `0 9 * * 1-5`",
    )
    intervals: list[IntervalInput] = Field(default_factory=list, max_length=20)
    timezone: str = Field(
        default="UTC",
        max_length=64,
        description="An IANA time zone. A local time the spring skips fires once, just"
        " after the change; a local time the autumn repeats fires once, the first time.",
    )
    start_at: Moment | None = None
    end_at: Moment | None = None
    jitter_seconds: int = Field(
        default=0,
        ge=0,
        le=DAY,
        description="Each tick waits a delay of up to this, the same in every process",
    )


class ScheduleCreate(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    workflow_id: str = Field(
        min_length=1,
        max_length=36,
        description="Any version of the workflow: ticks run its newest published version",
    )
    version_id: str | None = Field(
        default=None, max_length=36, description="A published version to run instead, pinned"
    )
    spec: ScheduleSpecInput
    input: dict[str, Any] = Field(default_factory=dict)
    overlap: Overlap = Field(
        default=Overlap.SKIP,
        strict=False,
        description="When a tick comes while a run of the schedule is in flight: `skip` it,"
        " `buffer_one` (start one when the run ends), `buffer_all` (start each in turn),"
        " `cancel_other` (cancel the run and start), or `allow_all`",
    )
    catchup_window_seconds: int = Field(
        default=60,
        ge=0,
        le=366 * DAY,
        description="How late a tick missed while nothing ran may still fire; 0: never",
    )
    pause_on_failure: bool = False

    def as_input(self) -> ScheduleInput:
        spec = ScheduleSpec(
            cron=tuple(self.spec.cron),
            intervals=tuple(
                Interval(item.every_seconds, item.offset_seconds) for item in self.spec.intervals
            ),
            timezone=self.spec.timezone,
            start_at=self.spec.start_at,
            end_at=self.spec.end_at,
            jitter_seconds=self.spec.jitter_seconds,
        )
        return ScheduleInput(
            self.name,
            self.workflow_id,
            self.version_id,
            spec,
            self.input,
            self.overlap,
            self.catchup_window_seconds,
            self.pause_on_failure,
        )


class PauseInput(RequestModel):
    reason: str | None = Field(default=None, max_length=2_000)


class FireInput(RequestModel):
    overlap: Overlap | None = Field(
        default=None, strict=False, description="Instead of the schedule's policy"
    )


class BackfillInput(FireInput):
    start: Moment
    end: Moment = Field(description="Ticks before it, at most 1,000")


class FireResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    scheduled_at: datetime
    source: str = Field(description="`schedule`, `trigger` (fired by hand) or `backfill`")
    outcome: str = Field(
        description="`started`, `skipped`, `buffered` (waits for the run in flight),"
        " `missed` (beyond the catch-up window) or `failed` (no run could start)"
    )
    run_id: str | None
    run_status: str | None = Field(description="How the run ended, once it has")
    detail: str | None


class ScheduleResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    workflow_id: str
    version_id: str | None
    spec: dict[str, Any]
    timezone: str
    input: dict[str, Any]
    overlap: Overlap
    catchup_window_seconds: int
    pause_on_failure: bool
    paused: bool
    paused_reason: str | None
    next_fire_at: datetime | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class ScheduleDetail(ScheduleResponse):
    upcoming: list[datetime] = Field(description="The next five fire times")
    recent: list[FireResponse] = Field(description="The last ten ticks, newest first")


class BackfillResponse(BaseModel):
    fires: list[FireResponse]
    already_taken: int = Field(description="Ticks of the range taken before, left as they were")


def detail_response(view: ScheduleView) -> ScheduleDetail:
    base = ScheduleResponse.model_validate(view.schedule).model_dump()
    recent = [FireResponse.model_validate(fire) for fire in view.recent]
    return ScheduleDetail(**base, upcoming=view.upcoming, recent=recent)


def taken_response(taken: Taken) -> FireResponse:
    return FireResponse(
        id=taken.fire_id,
        scheduled_at=taken.scheduled_at,
        source=taken.source,
        outcome=taken.outcome,
        run_id=taken.run_id,
        run_status=None,
        detail=taken.detail,
    )
