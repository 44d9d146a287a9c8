"""Scenario 3: `towpath serve` on SQLite, SIGKILLed at random moments while clients start
runs. Afterwards the file must pass `PRAGMA integrity_check`, every run whose start was
answered 201 must be in it, and a server started once more must finish them all."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from typing import TYPE_CHECKING, Any

import httpx

from chaos.client import API, Client
from chaos.dags import TERMINAL, wait_terminal
from chaos.figures import Figure, exactly, measured, said
from chaos.processes import Processes, jitter, kill

if TYPE_CHECKING:
    from pathlib import Path

    from chaos.postgres import Postgres

NAME = "3 sqlite kills"
DEFINITION: dict[str, Any] = {
    "nodes": [
        {"id": "a", "type": "transform", "data": {"config": {"output": {"x": "{{ input.i }}"}}}},
        {"id": "d", "type": "delay", "data": {"config": {"seconds": 0.2}}},
        {"id": "b", "type": "transform", "data": {"config": {"output": {"y": "{{ a.x }}"}}}},
    ],
    "edges": [
        {"id": "e1", "source": "a", "target": "d"},
        {"id": "e2", "source": "d", "target": "b"},
    ],
}


async def _write(base: str, key: str, workflow_id: str, committed: list[str]) -> None:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=10) as http:
        while True:
            try:
                answer = await http.post(
                    f"{base}{API}/workflows/{workflow_id}/run",
                    json={"input": {"i": len(committed)}},
                )
            except httpx.TransportError:
                return
            if answer.status_code == 201:
                committed.append(answer.json()["id"])


async def scenario(pg: Postgres, work: Path, long: bool) -> list[Figure]:
    rounds = 200 if long else 3
    path = work / "towpath.db"
    procs = Processes(
        work, {"TOWPATH_DATABASE_URL": f"sqlite+aiosqlite:///{path}", "TOWPATH_LEASE_SECONDS": "2"}
    )
    committed: list[str] = []
    try:
        key = workflow_id = ""
        for _ in range(rounds):
            server, base = await procs.api("serve", worker=True)
            if not workflow_id:
                key = procs.admin_key()
                client = Client([base], key)
                workflow_id = await client.publish("chaos sqlite", DEFINITION)
                await client.close()
            writers = [
                asyncio.create_task(_write(base, key, workflow_id, committed)) for _ in range(4)
            ]
            await asyncio.sleep(jitter(0.3, 2.0))
            kill(server)
            for writer in writers:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await writer
        with contextlib.closing(sqlite3.connect(path)) as conn:
            integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
            present = {row[0] for row in conn.execute("SELECT id FROM runs")}
        lost = [r for r in committed if r not in present]
        _, base = await procs.api("serve", worker=True)
        client = Client([base], key)
        statuses = await wait_terminal(client, [r for r in committed if r in present], 120)
        await client.close()
    finally:
        procs.close()
    return [
        measured(NAME, "SIGKILLs during writes", rounds),
        measured(NAME, "runs started (201)", len(committed)),
        said(NAME, "PRAGMA integrity_check", integrity, "ok", integrity == "ok"),
        exactly(NAME, "committed runs lost", len(lost), 0),
        exactly(
            NAME,
            "runs not terminal after a last restart",
            sum(s not in TERMINAL for s in statuses.values()),
            0,
        ),
    ]
