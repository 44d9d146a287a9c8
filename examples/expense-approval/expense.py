"""An expense claim from start to booking, through towpath's HTTP API.

The claimant fills in a form, two managers approve, finance lets a large claim wait until
it escalates to a director who approves, and the booking fails on a retired ledger URL;
the run is then retried from the booking step with the ledger's new URL. Every call is
printed as it is made.

    TOWPATH_STEP_ALLOWED_HOSTS=127.0.0.0/8 towpath serve          # the ledger is local
    python expense.py --url http://localhost:8000 --key tp_…        # an admin key
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from collections.abc import Iterator

WORKFLOW = Path(__file__).with_name("workflow.json")


class Ledger(BaseHTTPRequestHandler):
    """The company ledger: `/v1/entries` is retired (503), `/v2/entries` books."""

    booked: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        if self.path != "/v2/entries":
            self._answer(503, {"error": "this ledger moved to /v2/entries"})
            return
        self.booked.append(body)
        self._answer(201, {"entry": len(self.booked)})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def ledger() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Ledger)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class Api:
    """One caller of the API: every request is printed with its answer's status."""

    def __init__(self, client: httpx.AsyncClient, key: str, who: str, principal: str = "") -> None:
        self.client, self.who, self.principal = client, who, principal
        self.headers = {"Authorization": f"Bearer {key}"}

    async def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        answer = await self.client.request(
            method, f"/api/v1{path}", json=body, params=params or None, headers=self.headers
        )
        print(f"{self.who:>9} {method} {path} -> {answer.status_code}")
        if answer.is_error:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text}")
        return answer.json() if answer.content else None


async def until(admin: Api, run_id: str, wanted: str, step: str | None = None) -> dict[str, Any]:
    """The run once it (or one of its steps) reaches `wanted`."""
    for _ in range(600):
        run: dict[str, Any] = (
            await admin.client.get(f"/api/v1/runs/{run_id}", headers=admin.headers)
        ).json()
        if step is None and run["status"] == wanted:
            return run
        if step is not None:
            steps = (
                await admin.client.get(f"/api/v1/runs/{run_id}/steps", headers=admin.headers)
            ).json()
            if any(s["step_id"] == step and s["status"] == wanted for s in steps):
                return run
        await asyncio.sleep(0.1)
    raise TimeoutError(f"run {run_id} did not reach {wanted} ({step or 'run'})")


async def people(admin: Api) -> dict[str, Api]:
    """An operator key each for the claimant, two managers, finance and a director, and the
    workspace groups the workflow's approvals name."""
    found = {}
    for who in ("claimant", "alice", "bob", "fiona", "dana"):
        issued = await admin.call("POST", "/api-keys", {"name": who, "role": "operator"})
        found[who] = Api(admin.client, issued["key"], who, f"key:{issued['id']}")
    for group, members in {
        "managers": ["alice", "bob"],
        "finance": ["fiona"],
        "directors": ["dana"],
    }.items():
        principals = [found[m].principal for m in members]
        made = await admin.client.post(
            "/api/v1/groups", json={"name": group, "members": principals}, headers=admin.headers
        )
        print(f"{'admin':>9} POST /groups -> {made.status_code}")
        if made.status_code == 409:
            # Played before on this server: the group is there, naming the earlier keys.
            await admin.call("PUT", f"/groups/{group}", {"members": principals})
        elif made.is_error:
            raise RuntimeError(f"POST /groups: {made.status_code} {made.text}")
    return found


async def main(
    url: str,
    admin_key: str,
    ledger_url: str,
    *,
    finance_wait_seconds: int = 2,
    transport: httpx.AsyncBaseTransport | None = None,
) -> dict[str, Any]:
    """Play the claim through; return the finished run."""
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=30) as client:
        admin = Api(client, admin_key, "admin")
        who = await people(admin)
        workflow = json.loads(WORKFLOW.read_text())
        # Finance has two days in the definition; the demo lets its wait run out at once.
        finance = next(n for n in workflow["definition"]["nodes"] if n["id"] == "finance")
        reminders = [1] if finance_wait_seconds > 1 else []
        finance["data"]["config"].update(
            timeout_seconds=finance_wait_seconds, remind_before_seconds=reminders
        )
        created = await admin.call("POST", "/workflows", workflow)
        await admin.call("POST", f"/workflows/{created['id']}/publish")

        claim = {
            "employee": "Sam",
            "amount": 1840.5,
            "description": "conference trip",
            "ledger_url": f"{ledger_url}/v1/entries",
        }
        run = await who["claimant"].call(
            "POST", f"/workflows/{created['id']}/run", {"input": claim}
        )
        run_id = run["id"]
        await until(admin, run_id, "waiting", "details")
        # A first try breaks the form's rules: every problem comes back at once.
        wrong = {"cost_center": "marketing", "spent_on": "20/11/2026", "receipt": "20931"}
        refused = await client.post(
            f"/api/v1/runs/{run_id}/clarify",
            json={"step_id": "details", "answers": wrong},
            headers=who["claimant"].headers,
        )
        print(f"{'claimant':>9} POST /runs/{run_id}/clarify -> {refused.status_code}")
        for problem in refused.json()["details"]["errors"]:
            print(f"{'':>9} {problem}")
        answers = {"cost_center": "engineering", "spent_on": "2026-11-20", "receipt": "R-20931"}
        await who["claimant"].call(
            "POST", f"/runs/{run_id}/clarify", {"step_id": "details", "answers": answers}
        )
        await until(admin, run_id, "waiting", "managers")
        for manager in ("alice", "bob"):
            await who[manager].call(
                "POST",
                f"/runs/{run_id}/approve",
                {"step_id": "managers", "approved": True, "comment": f"fine by {manager}"},
            )
        await until(admin, run_id, "waiting", "finance")
        # Finance does not answer: once its wait is over the decision is the directors'.
        escalated = await _escalated(admin, run_id)
        print(f"{'':>9} finance escalated to {escalated['data']['approvers']}")
        inbox = await who["dana"].call("GET", "/inbox", type="approval")
        print(f"{'':>9} dana's inbox: {[(i['step_id'], i['approval']['message']) for i in inbox]}")
        await who["dana"].call(
            "POST",
            f"/runs/{run_id}/approve",
            {"step_id": "finance", "approved": True, "comment": "approved for finance"},
        )
        failed = await until(admin, run_id, "failed")
        print(f"{'':>9} booking failed: {failed['error']}")

        fixed = {**claim, "ledger_url": f"{ledger_url}/v2/entries"}
        retry = {"from_step": "book", "input_overrides": {"input": fixed}}
        plan = await admin.call("POST", f"/runs/{run_id}/retry", retry, dry_run="true")
        print(f"{'':>9} a retry from `book` would run {plan['run_again']}, keep {plan['keep']}")
        await admin.call("POST", f"/runs/{run_id}/retry", retry)
        done: dict[str, Any] = await until(admin, run_id, "completed")
        print(f"{'':>9} booked: {done['context']['book']['body']}")
        return done


async def _escalated(admin: Api, run_id: str) -> dict[str, Any]:
    for _ in range(600):
        answer = await admin.client.get(f"/api/v1/runs/{run_id}/events", headers=admin.headers)
        for event in answer.json():
            if event["event_type"] == "approval.escalated":
                return dict(event)
        await asyncio.sleep(0.2)
    raise TimeoutError("finance's approval was not escalated")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:8000")
    parser.add_argument("--key", required=True, help="an admin API key")
    arguments = parser.parse_args()
    with ledger() as ledger_url:
        asyncio.run(main(arguments.url, arguments.key, ledger_url))
