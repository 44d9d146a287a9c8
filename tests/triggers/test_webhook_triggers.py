"""Managing webhook triggers: the secret shown once, rotation with an overlap, the
authenticated start path, roles and workspaces."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.runs import API, publish
from tests.tenants import other_workspace
from tests.triggers.hooks import ECHO, deliveries, make_trigger, run_count, standard_signed
from towpath.services.api_keys import issue_workspace_key

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

TRIGGERS = f"{API}/triggers/webhooks"
BODY = b'{"n": 1}'


async def test_the_secret_is_shown_only_when_made(client: httpx.AsyncClient) -> None:
    made = await make_trigger(client)

    got = await client.get(f"{TRIGGERS}/{made['id']}")
    listed = await client.get(TRIGGERS)

    assert made["secret"].startswith("whsec_")
    assert made["path"] == f"{API}/hooks/{made['id']}"
    assert got.status_code == 200
    assert "secret" not in got.json()
    assert made["secret"] not in got.text
    assert made["secret"] not in listed.text
    assert listed.headers["X-Total-Count"] == "1"
    audit = await client.get(f"{API}/audit")
    assert made["secret"] not in audit.text


async def test_ids_are_unguessable_and_distinct(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, ECHO)
    ids = {(await make_trigger(client, workflow_id))["id"] for _ in range(3)}

    assert len(ids) == 3
    assert all(len(found) >= 32 for found in ids)


async def test_a_trigger_of_a_missing_workflow_or_bad_transform_is_refused(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.post(TRIGGERS, json={"name": "x", "workflow_id": "nope"})
    workflow_id = await publish(client, ECHO)
    bad = await client.post(
        TRIGGERS,
        json={"name": "x", "workflow_id": workflow_id, "transform": {"a": "{{ secrets.X }}"}},
    )

    assert missing.status_code == 404
    assert missing.json()["error_code"] == "WORKFLOW_NOT_FOUND"
    assert bad.status_code == 422
    assert bad.json()["error_code"] == "WEBHOOK_TRANSFORM_INVALID"
    assert (await client.get(TRIGGERS)).headers["X-Total-Count"] == "0"


async def test_rotation_keeps_the_old_secret_for_its_overlap(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    made = await make_trigger(client)
    old = made["secret"]

    rotated = await client.post(f"{TRIGGERS}/{made['id']}/rotate-secret")
    new = rotated.json()["secret"]
    by_old = await sender.post(made["path"], content=BODY, headers=standard_signed(old, BODY, "a"))
    by_new = await sender.post(made["path"], content=BODY, headers=standard_signed(new, BODY, "b"))

    assert rotated.status_code == 200, rotated.text
    assert new != old
    assert rotated.json()["previous_expires_at"] is not None
    assert by_old.status_code == 201
    assert by_new.status_code == 201

    ended = await client.post(f"{TRIGGERS}/{made['id']}/rotate-secret", json={"overlap_seconds": 0})
    newest = ended.json()["secret"]
    by_previous = await sender.post(
        made["path"], content=BODY, headers=standard_signed(new, BODY, "c")
    )
    by_newest = await sender.post(
        made["path"], content=BODY, headers=standard_signed(newest, BODY, "d")
    )

    assert by_previous.status_code == 401
    assert by_newest.status_code == 201
    assert await run_count(client) == 3


async def test_a_deleted_trigger_refuses_deliveries(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    made = await make_trigger(client)
    signed = standard_signed(made["secret"], BODY)
    await sender.post(made["path"], content=BODY, headers=signed)

    deleted = await client.delete(f"{TRIGGERS}/{made['id']}")
    after = await sender.post(made["path"], content=BODY, headers={**signed, "webhook-id": "n"})

    assert deleted.status_code == 204
    assert (await client.get(f"{TRIGGERS}/{made['id']}")).status_code == 404
    assert after.status_code == 401
    # The run it started stays.
    assert await run_count(client) == 1


async def test_another_workspace_sees_none_of_it(client: httpx.AsyncClient, app: FastAPI) -> None:
    made = await make_trigger(client)

    async with other_workspace(app) as neighbour:
        got = await neighbour.get(f"{TRIGGERS}/{made['id']}")
        logged = await neighbour.get(f"{TRIGGERS}/{made['id']}/deliveries")
        rotated = await neighbour.post(f"{TRIGGERS}/{made['id']}/rotate-secret")
        listed = await neighbour.get(TRIGGERS)

    assert (got.status_code, logged.status_code, rotated.status_code) == (404, 404, 404)
    assert listed.json() == []


async def test_a_viewer_reads_but_does_not_manage(client: httpx.AsyncClient, app: FastAPI) -> None:
    made = await make_trigger(client)
    issued = await issue_workspace_key(app.state.db, "viewer", "viewer")
    viewer = {"Authorization": f"Bearer {issued.plaintext}"}
    workflow_id = made["workflow_id"]

    read = await client.get(f"{TRIGGERS}/{made['id']}", headers=viewer)
    create = await client.post(
        TRIGGERS, json={"name": "x", "workflow_id": workflow_id}, headers=viewer
    )
    rotate = await client.post(f"{TRIGGERS}/{made['id']}/rotate-secret", headers=viewer)
    start = await client.post(f"{API}/triggers/webhook/{workflow_id}", json={}, headers=viewer)

    assert read.status_code == 200
    assert (create.status_code, rotate.status_code, start.status_code) == (403, 403, 403)


async def test_the_authenticated_path_starts_a_webhook_run(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    workflow_id = await publish(client, ECHO)
    url = f"{API}/triggers/webhook/{workflow_id}"
    key = {"X-Idempotency-Key": "delivery-7", "content-type": "application/json"}

    first = await client.post(url, content=json.dumps({"a": 1}), headers=key)
    again = await client.post(url, content=json.dumps({"a": 1}), headers=key)
    text = await client.post(url, content=b"hello", headers={"content-type": "text/plain"})
    anonymous = await sender.post(url, json={"a": 1})

    assert first.status_code == 201, first.text
    assert first.json()["trigger_type"] == "webhook"
    assert first.json()["input"] == {"a": 1}
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert text.json()["input"] == {"body": "hello"}
    assert anonymous.status_code == 401
    assert await run_count(client) == 2


async def test_deliveries_are_listed_newest_first(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    made = await make_trigger(client)
    await sender.post(made["path"], content=BODY, headers=standard_signed("whsec_AAAA", BODY))
    await sender.post(made["path"], content=BODY, headers=standard_signed(made["secret"], BODY))

    logged = await deliveries(client, made["id"])

    assert [d["outcome"] for d in logged] == ["accepted", "refused"]
    assert logged[0]["run_id"] is not None


async def test_an_overlap_is_a_whole_number_of_seconds(client: httpx.AsyncClient) -> None:
    made = await make_trigger(client)
    url = f"{TRIGGERS}/{made['id']}/rotate-secret"

    whole = await client.post(url, json={"overlap_seconds": 60.0})
    fraction = await client.post(url, json={"overlap_seconds": 1.5})
    text = await client.post(url, json={"overlap_seconds": "60"})

    assert whole.status_code == 200, whole.text
    assert (fraction.status_code, text.status_code) == (422, 422)


async def test_hmac_options_for_another_scheme_are_refused(client: httpx.AsyncClient) -> None:
    workflow_id = await publish(client, ECHO)
    options = {"header": "X-Sig", "encoding": "base64"}

    refused = await client.post(
        TRIGGERS,
        json={"name": "x", "workflow_id": workflow_id, "scheme": "github", "hmac": options},
    )
    kept = await client.post(
        TRIGGERS,
        json={"name": "y", "workflow_id": workflow_id, "scheme": "hmac", "hmac": options},
    )

    assert refused.status_code == 422
    assert refused.json()["details"]["errors"][0]["loc"] == ["body", "hmac"]
    assert kept.status_code == 201, kept.text
    assert (await client.get(TRIGGERS)).headers["X-Total-Count"] == "1"
