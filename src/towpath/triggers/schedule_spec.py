"""When a schedule fires: cron expressions read in the schedule's local wall time, fixed
intervals, a start and an end, and a deterministic jitter per tick."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

from towpath.domain.errors import Unprocessable

# A tick is never looked for further ahead than this: a cron that cannot match (30 Feb).
HORIZON = timedelta(days=5 * 366)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# No tick falls after this: a tick, its jitter and the windows around it stay within what
# a datetime can hold (year 9999), however far the spec or a backfill reaches.
LAST_TICK = datetime(9999, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


class ScheduleSpecInvalid(Unprocessable):
    code = "SCHEDULE_INVALID"

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message, details={"field": field_name})


@dataclass(frozen=True)
class Interval:
    every_seconds: int
    # Ticks are at EPOCH (or the start) + offset + k * every.
    offset_seconds: int = 0


@dataclass(frozen=True)
class ScheduleSpec:
    cron: tuple[str, ...] = ()
    intervals: tuple[Interval, ...] = ()
    timezone: str = "UTC"
    start_at: datetime | None = None
    end_at: datetime | None = None
    jitter_seconds: int = 0
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.cron and not self.intervals:
            raise ScheduleSpecInvalid("spec.cron", "a schedule needs a cron expression or interval")
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            message = f"{self.timezone!r} is not an IANA time zone"
            raise ScheduleSpecInvalid("spec.timezone", message) from exc
        object.__setattr__(self, "zone", zone)
        for index, expression in enumerate(self.cron):
            if not croniter.is_valid(expression) or len(expression.split()) > 5:
                message = (
                    f"{expression!r} is not a cron expression of 5 fields"
                    " (minute hour day-of-month month day-of-week)"
                )
                raise ScheduleSpecInvalid(f"spec.cron[{index}]", message)
            if not _ever_matches(expression):
                message = f"{expression!r} matches no date (such as the 31st of February)"
                raise ScheduleSpecInvalid(f"spec.cron[{index}]", message)
        if self.start_at and self.end_at and self.end_at <= self.start_at:
            raise ScheduleSpecInvalid("spec.end_at", "the end is not after the start")

    def document(self) -> dict[str, Any]:
        return {
            "cron": list(self.cron),
            "intervals": [vars(interval) for interval in self.intervals],
            "timezone": self.timezone,
            "start_at": self.start_at.isoformat() if self.start_at else None,
            "end_at": self.end_at.isoformat() if self.end_at else None,
            "jitter_seconds": self.jitter_seconds,
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> ScheduleSpec:
        def moment(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        return cls(
            cron=tuple(doc.get("cron", ())),
            intervals=tuple(Interval(**item) for item in doc.get("intervals", ())),
            timezone=doc.get("timezone", "UTC"),
            start_at=moment(doc.get("start_at")),
            end_at=moment(doc.get("end_at")),
            jitter_seconds=int(doc.get("jitter_seconds", 0)),
        )

    def next_after(self, after: datetime) -> datetime | None:
        """The first tick strictly after `after` (UTC), or None past the end."""
        if self.start_at is not None and after < self.start_at:
            after = _just_before(self.start_at)
        try:
            found = [self._cron_after(expression, after) for expression in self.cron]
            found += [self._interval_after(interval, after) for interval in self.intervals]
        except OverflowError:
            # The next tick would be past year 9999 (or a zone's wall time before year 1).
            return None
        ticks = [tick for tick in found if tick is not None]
        if not ticks:
            return None
        tick = min(ticks)
        if (self.end_at is not None and tick > self.end_at) or tick > LAST_TICK:
            return None
        return tick

    def upcoming(self, after: datetime, count: int) -> list[datetime]:
        ticks: list[datetime] = []
        tick = self.next_after(after)
        while tick is not None and len(ticks) < count:
            ticks.append(tick)
            tick = self.next_after(tick)
        return ticks

    def between(self, start: datetime, end: datetime, limit: int) -> list[datetime]:
        """Ticks in [start, end), at most `limit` + 1 so a caller sees there are more."""
        ticks: list[datetime] = []
        tick = self.next_after(_just_before(start))
        while tick is not None and tick < end and len(ticks) <= limit:
            ticks.append(tick)
            tick = self.next_after(tick)
        return ticks

    def jitter(self, schedule_id: str, tick: datetime) -> timedelta:
        """The same delay for a tick in every process: derived from the tick, not drawn."""
        if self.jitter_seconds <= 0:
            return timedelta(0)
        digest = hashlib.sha256(f"{schedule_id}|{tick.isoformat()}".encode()).digest()
        millis = int.from_bytes(digest[:8], "big") % (self.jitter_seconds * 1000 + 1)
        return timedelta(milliseconds=millis)

    def _cron_after(self, expression: str, after: datetime) -> datetime | None:
        # Iterated on naive wall times, each wall time once: a time the spring skips is
        # read before the change (so it falls just after it), and a time the autumn
        # repeats is its first occurrence. A tick not after `after` (two wall times
        # that meet at one instant) is passed over.
        wall = after.astimezone(self.zone).replace(tzinfo=None)
        times = croniter(expression, wall)
        limit = after + HORIZON
        while True:
            try:
                found = times.get_next(datetime)
            except CroniterBadDateError:
                return None
            candidate = found.replace(tzinfo=self.zone, fold=0)
            tick = candidate.astimezone(UTC)
            if tick > limit:
                return None
            if tick > after:
                return tick

    def _interval_after(self, interval: Interval, after: datetime) -> datetime | None:
        anchor = (self.start_at or EPOCH) + timedelta(seconds=interval.offset_seconds)
        every = timedelta(seconds=interval.every_seconds)
        if after < anchor:
            return anchor
        steps = (after - anchor) // every + 1
        return anchor + steps * every


def _just_before(moment: datetime) -> datetime:
    """A microsecond before `moment`, or `moment` itself at the first datetime there is."""
    try:
        return moment - MICROSECOND
    except OverflowError:
        return moment


def _ever_matches(expression: str) -> bool:
    # croniter gives up, after searching, on an expression no date matches.
    try:
        croniter(expression, EPOCH).get_next(datetime)
    except CroniterBadDateError:
        return False
    return True
