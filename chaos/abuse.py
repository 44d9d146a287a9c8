"""Scenario 7: template injection and SSRF against one `towpath serve` (SQLite, its own
worker).

- Every payload of `payloads/jinja2.txt` as a definition's template, as a run input, as
  a webhook delivery's body, and as a step's output (a call's answer), each then used
  by a template. Executed: the marker file a payload would `touch` exists, the secret in
  the server's environment shows in a run, Python internals show in an output, or (for
  data) the value came out other than it went in.
- Every address of `payloads/ssrf.txt` at `http_request` (as written and rendered from
  input), at an `agent` (its call and its health checks, every second) and at a webhook
  subscription (a delivery on each completed run). Egress stays the production default
  but for the one redirecting helper; connections reaching the canary are counted.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import shutil
import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from bench.common import free_port

from chaos.canary import payloads
from chaos.client import Client
from chaos.dags import TERMINAL, wait_terminal
from chaos.figures import Figure, exactly, measured, note
from chaos.processes import Processes

if TYPE_CHECKING:
    from chaos.postgres import Postgres

NAME = "7 abuse"
HERE = Path(__file__).parent / "payloads"
SECRET_NAME = "CHAOS_CANARY_SECRET"  # noqa: S105 - a variable's name
LEAKS = ("<class ", "<module ", "<function ", "<built-in ", "<bound method", "root:x:0:0")


def _node(node_id: str, step_type: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"id": node_id, "type": step_type, "data": {"config": config}}


def _flow(*nodes: dict[str, Any]) -> dict[str, Any]:
    edges = [
        {"id": f"e{i}", "source": a["id"], "target": b["id"]}
        for i, (a, b) in enumerate(itertools.pairwise(nodes))
    ]
    return {"nodes": list(nodes), "edges": edges}


def ssrf_forms(canary_port: int, helper: str) -> list[str]:
    text = (HERE / "ssrf.txt").read_text()
    text = text.replace("REDIRECT/", f"{helper}/to/").replace("PORT", str(canary_port))
    text = text.replace("HOSTNAME", socket.gethostname())
    return [line for line in text.splitlines() if line and not line.startswith("#")]


class Runs:
    """Runs started, each with what its output must (or must not) show."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.ids: list[str] = []
        self.refused = 0

    async def publish(self, name: str, definition: dict[str, Any]) -> str | None:
        made = await self.client.request(
            "POST", "/workflows", json={"name": name, "definition": definition}
        )
        if made.status_code != 201:
            self.refused += 1
            return None
        workflow_id: str = made.json()["id"]
        published = await self.client.request("POST", f"/workflows/{workflow_id}/publish")
        if published.status_code != 200:
            self.refused += 1
            return None
        return workflow_id

    async def start(self, workflow_id: str, run_input: dict[str, Any]) -> str | None:
        answer = await self.client.request(
            "POST", f"/workflows/{workflow_id}/run", json={"input": run_input}
        )
        if answer.status_code != 201:
            self.refused += 1
            return None
        run_id: str = answer.json()["id"]
        self.ids.append(run_id)
        return run_id


async def scenario(pg: Postgres, work: Path, long: bool) -> list[Figure]:
    marker = Path(tempfile.mkdtemp(prefix="chaos-marker-")) / "executed"
    secret = secrets.token_hex(16)
    payload_file = work / "jinja2.txt"
    payload_file.write_text((HERE / "jinja2.txt").read_text().replace("SECRET_NAME", SECRET_NAME))
    canary_port, helper_port = free_port(), free_port()
    helper = f"http://127.0.0.1:{helper_port}"
    procs = Processes(
        work,
        {
            "TOWPATH_DATABASE_URL": f"sqlite+aiosqlite:///{work}/towpath.db",
            "TOWPATH_STEP_ALLOWED_HOSTS": f"127.0.0.1:{helper_port}",
            "TOWPATH_AGENT_HEALTH_INTERVAL_SECONDS": "1",
            SECRET_NAME: secret,
        },
    )
    found = payloads(str(payload_file), str(marker))
    forms = ssrf_forms(canary_port, helper)
    data_changed = data_completed = 0
    try:
        procs.spawn(
            "canary",
            [
                "-m",
                "chaos.canary",
                str(canary_port),
                str(helper_port),
                str(payload_file),
                str(marker),
            ],
        )
        _, base = await procs.api(worker=True)
        key = procs.admin_key()
        client = Client([base], key)
        runs = Runs(client)
        # Injections: in definitions, then as data that a template reads.
        for i, payload in enumerate(found):
            workflow_id = await runs.publish(
                f"ssti {i}", _flow(_node("t", "transform", {"output": {"v": payload}}))
            )
            if workflow_id:
                await runs.start(workflow_id, {})
        echo = await runs.publish(
            "echo", _flow(_node("t", "transform", {"output": {"v": "{{ input.p }}"}}))
        )
        call = {"url": f"{helper}/payload/{{{{ input.i }}}}"}
        answered = await runs.publish(
            "answers",
            _flow(
                _node("call", "http_request", call),
                _node("t", "transform", {"output": {"v": "{{ call.body.p }}"}}),
            ),
        )
        assert echo and answered
        hook = await client.request(
            "POST",
            "/triggers/webhooks",
            json={"name": "abuse", "workflow_id": echo, "scheme": "bearer"},
        )
        hook.raise_for_status()
        hook_url, hook_secret = f"{base}{hook.json()['path']}", hook.json()["secret"]
        expected: dict[str, str] = {}
        async with httpx.AsyncClient(timeout=30) as http:
            for i, payload in enumerate(found):
                delivered = await _deliver(http, hook_url, hook_secret, payload)
                if delivered:
                    runs.ids.append(delivered)
                for run_id in (
                    await runs.start(echo, {"p": payload}),
                    await runs.start(answered, {"i": i}),
                    delivered,
                ):
                    if run_id:
                        expected[run_id] = payload
        note(f"abuse: {len(runs.ids)} injection runs started")
        # SSRF: steps, agents and subscriptions aimed at the canary.
        rendered = await runs.publish(
            "fetch", _flow(_node("call", "http_request", {"url": "{{ input.url }}"}))
        )
        assert rendered
        agents_made = subscriptions_made = 0
        for i, form in enumerate(forms):
            await runs.start(rendered, {"url": form})
            literal = await runs.publish(
                f"ssrf {i}", _flow(_node("call", "http_request", {"url": form}))
            )
            if literal:
                await runs.start(literal, {})
            agent = await client.request(
                "POST",
                "/agents",
                json={"name": f"canary-{i}", "url": form, "health_url": form, "retry": {}},
            )
            if agent.status_code == 201:
                agents_made += 1
                via = await runs.publish(
                    f"agent {i}", _flow(_node("a", "agent", {"agent_id": agent.json()["id"]}))
                )
                if via:
                    await runs.start(via, {})
            subscribed = await client.request(
                "POST", "/subscriptions", json={"url": form, "event_types": ["run.completed"]}
            )
            subscriptions_made += subscribed.status_code == 201
        note(f"abuse: {len(runs.ids)} runs started in all; waiting for them")
        statuses = await wait_terminal(client, runs.ids, 300 if long else 120)
        # Health checks every second and deliveries of the last completions get their turn.
        await asyncio.sleep(5)
        for run_id, payload in expected.items():
            run = await client.get(f"/runs/{run_id}")
            if run["status"] == "completed":
                data_completed += 1
                data_changed += run["context"]["t"]["v"] != payload
        leaked = 0
        for run_id in runs.ids:
            text = json.dumps(await client.get(f"/runs/{run_id}"))
            text += json.dumps(await client.get(f"/runs/{run_id}/steps"))
            if run_id not in expected:
                leaked += secret in text or any(sign in text for sign in LEAKS)
            else:
                leaked += secret in text
        async with httpx.AsyncClient() as http:
            reached = (await http.get(f"{helper}/_canary")).json()["connections"]
        await client.close()
    finally:
        procs.close()
    executed = marker.exists()
    shutil.rmtree(marker.parent, ignore_errors=True)
    return [
        measured(NAME, "injection payloads x 4 places", len(found)),
        measured(NAME, "SSRF address forms x 4 ways", len(forms)),
        measured(NAME, "refused at the API (422 and such)", runs.refused),
        measured(NAME, "agents / subscriptions accepted", agents_made + subscriptions_made),
        exactly(NAME, "payloads executed (a command ran)", int(executed), 0),
        exactly(NAME, "payloads executed (internals or secret shown)", leaked, 0),
        exactly(NAME, "runs carrying a payload as data, completed", data_completed, len(expected)),
        exactly(NAME, "data rendered as a template", data_changed, 0),
        exactly(NAME, "runs not terminal", sum(s not in TERMINAL for s in statuses.values()), 0),
        exactly(NAME, "connections reaching the canary", reached, 0),
    ]


async def _deliver(http: httpx.AsyncClient, url: str, secret: str, payload: str) -> str | None:
    answer = await http.post(
        url, json={"p": payload}, headers={"Authorization": f"Bearer {secret}"}
    )
    return str(answer.json()["id"]) if answer.status_code == 201 else None
