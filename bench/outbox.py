"""What outgoing webhooks cost the engine's writes: the same figures as `bench.engine` (a)
and (b), on a schema without the outbox trigger, with it and no subscription, and with one
enabled subscription to every event type (each event then writes a delivery row too).

    .venv/bin/python -m bench.outbox [--rounds 3] [--runs 30] [--total 1000] [--skip-postgres]

The three are measured in turns, round after round, and the medians printed: a noisy
machine moves all three alike. Nothing sends the deliveries here; sending is the
dispatcher's work, off the engine's transactions.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from sqlalchemy import text

from bench.common import (
    DEFAULT_POSTGRES,
    chain,
    drop_postgres,
    fresh_postgres,
    line,
    median,
    sqlite_url,
)
from bench.engine import STEPS, chain_ms_per_step, publish, steps_per_second
from towpath.config import Settings
from towpath.domain.states import EventType
from towpath.storage.database import Database
from towpath.storage.migrate import upgrade
from towpath.storage.models import WebhookSubscription
from towpath.triggers.signatures import Scheme, new_secret

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from towpath.auth.principal import Principal

SETUPS = ("no trigger", "trigger, no subscription", "one subscription, every type")


async def prepare(url: str, setup: str) -> tuple[Database, Principal]:
    db = Database(url)
    await upgrade(db, "head")
    if setup == SETUPS[0]:
        # The schema as it is, less the outbox's trigger: what the engine wrote before it.
        async with db.transaction() as session:
            on = "" if db.is_sqlite else " ON run_events"
            await session.execute(text(f"DROP TRIGGER run_events_outbox{on}"))
    caller = await publish(db, chain(STEPS))
    if setup == SETUPS[2]:
        async with db.transaction() as session:
            session.add(
                WebhookSubscription(
                    workspace_id=caller.workspace_id,
                    url="https://receiver.invalid/hooks",
                    event_types=[t.value for t in EventType],
                    secret=new_secret(Scheme.STANDARD),
                    enabled=True,
                    failed_attempts=0,
                    given_up_in_row=0,
                )
            )
    return db, caller


async def per_step(url: str, setup: str, runs: int, *, inline: bool) -> float:
    db, caller = await prepare(url, setup)
    settings = Settings(database_url=url, inline_pure_steps=inline)
    return await chain_ms_per_step(db, caller, settings, runs)


async def throughput(url: str, setup: str, total: int, in_flight: int = 200) -> float:
    db, caller = await prepare(url, setup)
    settings = Settings(database_url=url, worker_concurrency=in_flight)
    return await steps_per_second(db, caller, settings, total, in_flight)


async def _rounds(
    label: str,
    unit: str,
    rounds: int,
    fresh: Callable[[], Awaitable[str]],
    done: Callable[[str], Awaitable[None]],
    measure: Callable[[str, str], Awaitable[float]],
) -> None:
    found: dict[str, list[float]] = {setup: [] for setup in SETUPS}
    for _ in range(rounds):
        for setup in SETUPS:
            url = await fresh()
            try:
                found[setup].append(await measure(url, setup))
            finally:
                await done(url)
    base = median(found[SETUPS[0]])
    for setup in SETUPS:
        value = median(found[setup])
        spread = ", ".join(f"{v:,.3f}" if unit == "ms" else f"{v:,.0f}" for v in found[setup])
        shown = f"{value:,.3f} ms" if unit == "ms" else f"{value:,.0f}"
        line(f"{label}: {setup}", shown, f"x{value / base:.2f} ({spread})")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--total", type=int, default=1000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()

    async def sqlite_fresh() -> str:
        return sqlite_url()

    async def sqlite_done(url: str) -> None:
        return None

    async def pg_fresh() -> str:
        return await fresh_postgres(args.postgres)

    async def pg_done(url: str) -> None:
        await drop_postgres(args.postgres, url)

    backends = [("SQLite (WAL, synchronous=FULL)", sqlite_fresh, sqlite_done)]
    if not args.skip_postgres:
        backends.append(("PostgreSQL (local)", pg_fresh, pg_done))
    for title, fresh, done in backends:
        print(title)

        async def inline(url: str, setup: str) -> float:
            return await per_step(url, setup, args.runs, inline=True)

        async def one_commit_each(url: str, setup: str) -> float:
            return await per_step(url, setup, args.runs, inline=False)

        async def steps_per_second(url: str, setup: str) -> float:
            return await throughput(url, setup, args.total)

        await _rounds("(a) per step", "ms", args.rounds, fresh, done, inline)
        await _rounds("(a) not inlined", "ms", args.rounds, fresh, done, one_commit_each)
        await _rounds(
            "(b) steps/s, 200 in flight", "/s", args.rounds, fresh, done, steps_per_second
        )


if __name__ == "__main__":
    asyncio.run(main())
