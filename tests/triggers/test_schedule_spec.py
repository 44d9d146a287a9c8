"""When a spec fires, without a database: several crons and intervals, start and end,
jitter the same everywhere, and the overlap rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from towpath.triggers.overlap import Overlap, TickAction, on_tick
from towpath.triggers.schedule_spec import Interval, ScheduleSpec, ScheduleSpecInvalid

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def test_crons_and_intervals_merge_in_order_each_instant_once() -> None:
    spec = ScheduleSpec(cron=("0 * * * *", "30 * * * *"), intervals=(Interval(3600),))

    assert spec.upcoming(T0, 4) == [T0 + timedelta(minutes=m) for m in (30, 60, 90, 120)]


def test_start_and_end_bound_the_ticks() -> None:
    spec = ScheduleSpec(
        intervals=(Interval(60, offset_seconds=15),),
        start_at=T0,
        end_at=T0 + timedelta(minutes=3),
    )

    assert spec.upcoming(T0 - timedelta(days=1), 10) == [
        T0 + timedelta(seconds=15 + 60 * k) for k in range(3)
    ]
    assert spec.next_after(T0 + timedelta(minutes=3)) is None


def test_jitter_is_the_same_for_a_tick_everywhere_and_within_bounds() -> None:
    spec = ScheduleSpec(cron=("* * * * *",), jitter_seconds=30)
    delays = [spec.jitter("s1", T0 + timedelta(minutes=m)) for m in range(50)]

    assert delays == [spec.jitter("s1", T0 + timedelta(minutes=m)) for m in range(50)]
    assert all(timedelta(0) <= delay <= timedelta(seconds=30) for delay in delays)
    assert len(set(delays)) > 1
    assert ScheduleSpec(cron=("* * * * *",)).jitter("s1", T0) == timedelta(0)


def test_a_document_reads_back_as_the_same_spec() -> None:
    spec = ScheduleSpec(
        cron=("0 9 * * 1-5",),
        intervals=(Interval(90, 5),),
        timezone="Asia/Kolkata",
        start_at=T0,
        end_at=T0 + timedelta(days=9),
        jitter_seconds=4,
    )

    assert ScheduleSpec.from_document(spec.document()) == spec


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"cron": ("not cron",)}, "spec.cron[0]"),
        ({"cron": ("* * * * * *",)}, "spec.cron[0]"),
        ({"cron": ("* * * * *",), "timezone": "Nowhere/Special"}, "spec.timezone"),
        ({}, "spec.cron"),
        ({"cron": ("* * * * *",), "start_at": T0, "end_at": T0}, "spec.end_at"),
    ],
)
def test_a_spec_that_cannot_fire_names_its_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(ScheduleSpecInvalid) as refused:
        ScheduleSpec(**fields)  # type: ignore[arg-type]

    assert refused.value.details["field"] == field


@pytest.mark.parametrize(
    ("policy", "running", "buffered", "action"),
    [
        (Overlap.SKIP, False, 0, TickAction.START),
        (Overlap.SKIP, True, 0, TickAction.SKIP),
        (Overlap.BUFFER_ONE, True, 0, TickAction.BUFFER),
        (Overlap.BUFFER_ONE, True, 1, TickAction.SKIP),
        (Overlap.BUFFER_ONE, False, 1, TickAction.SKIP),
        (Overlap.BUFFER_ALL, True, 3, TickAction.BUFFER),
        (Overlap.BUFFER_ALL, False, 1, TickAction.BUFFER),
        (Overlap.CANCEL_OTHER, True, 0, TickAction.REPLACE),
        (Overlap.ALLOW_ALL, True, 0, TickAction.START),
    ],
)
def test_each_overlap_policy(
    policy: Overlap, running: bool, buffered: int, action: TickAction
) -> None:
    assert on_tick(policy, running, buffered) == action
