"""Scenario 4: the same run start sent many times at once, with one `X-Idempotency-Key`,
across two API processes on PostgreSQL: each key must make exactly one run."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import TYPE_CHECKING

from chaos.client import Client
from chaos.figures import Figure, exactly, measured
from chaos.processes import Processes
from chaos.sqlite_kills import DEFINITION

if TYPE_CHECKING:
    from pathlib import Path

    from chaos.postgres import Postgres

NAME = "4 duplicate starts"
KEYS_AT_ONCE = 10


async def scenario(pg: Postgres, work: Path, long: bool) -> list[Figure]:
    keys, copies = (100, 50) if long else (10, 10)
    url = await pg.create_database()
    procs = Processes(work, {"TOWPATH_DATABASE_URL": url})
    answers: dict[str, set[str]] = defaultdict(set)
    refused = 0
    try:
        bases = [(await procs.api(f"api{i}"))[1] for i in range(2)]
        key = procs.admin_key()
        client = Client(bases, key)
        workflow_id = await client.publish("chaos duplicates", DEFINITION)

        async def start(n: int, copy: int) -> None:
            nonlocal refused
            answer = await client.request(
                "POST",
                f"/workflows/{workflow_id}/run",
                json={"input": {"i": n}},
                key=f"dup-{n}",
                base=bases[copy % 2],
            )
            if answer.status_code in (200, 201):
                answers[f"dup-{n}"].add(answer.json()["id"])
            else:
                refused += 1

        # Every copy of a key at once; keys in waves of 10, so that 5,000 requests (the
        # long form's) do not sit in the client's own queue past its patience on 2 cores.
        for wave in range(0, keys, KEYS_AT_ONCE):
            batch = range(wave, min(keys, wave + KEYS_AT_ONCE))
            await asyncio.gather(*(start(n, c) for n in batch for c in range(copies)))
        made = await client.all_pages(f"/runs?workflow_id={workflow_id}")
        await client.close()
    finally:
        procs.close()
        await pg.drop_database()
    return [
        measured(NAME, "keys x concurrent copies", keys * copies),
        exactly(
            NAME,
            "keys answered with more than one run",
            sum(len(r) > 1 for r in answers.values()),
            0,
        ),
        exactly(NAME, "starts refused (not 200/201)", refused, 0),
        exactly(NAME, "runs made", len(made), keys),
    ]
