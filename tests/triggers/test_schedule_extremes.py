"""Times at the ends of what a datetime holds (year 1, year 9999) in a schedule's spec
and a backfill's range: answered as any other, never a server error."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.runs import publish
from tests.triggers.schedules import ECHO, SCHEDULES, make_schedule

if TYPE_CHECKING:
    import httpx

FIRST = "0001-01-01T00:00:00Z"
LAST = "9999-12-31T23:59:59Z"
SPECS = [
    {"cron": ["* * * * *"], "timezone": "Pacific/Kiritimati"},
    {"cron": ["0 0 1 1 *"], "timezone": "America/New_York"},
    {"intervals": [{"every_seconds": 1}], "jitter_seconds": 5},
]


@pytest.mark.parametrize("spec", SPECS, ids=["cron east", "cron west", "interval"])
@pytest.mark.parametrize(
    "window",
    [(FIRST, "0001-01-01T00:01:00Z"), ("9999-12-31T23:00:00Z", LAST), (FIRST, LAST)],
    ids=["year 1", "year 9999", "all time"],
)
async def test_a_backfill_at_the_ends_of_time_is_answered(
    client: httpx.AsyncClient, spec: dict[str, object], window: tuple[str, str]
) -> None:
    made = await make_schedule(client, await publish(client, ECHO), spec=spec)

    answer = await client.post(
        f"{SCHEDULES}/{made['id']}/backfill", json={"start": window[0], "end": window[1]}
    )

    # Every tick from year 1 to 9999 of an every-second interval is more than a backfill
    # takes (422); any other range has no tick a datetime can hold, or a few.
    assert answer.status_code in (200, 422), answer.text
    if answer.status_code == 422:
        assert answer.json()["details"]["field"] == "end"


@pytest.mark.parametrize("spec", SPECS, ids=["cron east", "cron west", "interval"])
async def test_a_spec_starting_at_the_end_of_time_has_no_next_fire(
    client: httpx.AsyncClient, spec: dict[str, object]
) -> None:
    made = await make_schedule(
        client, await publish(client, ECHO), spec={**spec, "start_at": "9999-12-31T00:00:00Z"}
    )

    detail = await client.get(f"{SCHEDULES}/{made['id']}")
    fired = await client.post(f"{SCHEDULES}/{made['id']}/trigger")

    assert detail.status_code == 200, detail.text
    assert made["next_fire_at"] is None
    assert detail.json()["upcoming"] == []
    assert fired.status_code == 201, fired.text
