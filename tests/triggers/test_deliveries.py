"""Signed deliveries start runs; forged, stale, replayed and oversized ones start none."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING

from tests.runs import API, publish, wait_for
from tests.triggers.hooks import (
    ECHO,
    deliveries,
    github_signed,
    make_trigger,
    run_count,
    standard_signed,
    stripe_signed,
)

if TYPE_CHECKING:
    import httpx

BODY = json.dumps({"order": 42, "note": "{{ 7*7 }}"}).encode()


async def test_a_signed_delivery_starts_a_run_of_its_body(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    trigger = await make_trigger(client)

    response = await sender.post(
        trigger["path"], content=BODY, headers=standard_signed(trigger["secret"], BODY)
    )

    assert response.status_code == 201, response.text
    run = response.json()
    assert run["trigger_type"] == "webhook"
    assert run["trigger_id"] == trigger["id"]
    assert run["input"] == {"order": 42, "note": "{{ 7*7 }}"}
    done = await wait_for(client, run["id"], "completed")
    # Data is substituted, never rendered again.
    assert done["context"]["echo"]["seen"] == {"order": 42, "note": "{{ 7*7 }}"}
    assert done["trigger_id"] == trigger["id"]
    [logged] = await deliveries(client, trigger["id"])
    assert logged["outcome"] == "accepted"
    assert logged["run_id"] == run["id"]
    assert logged["delivery_id"] == "msg_1"


async def test_forged_stale_and_unsigned_deliveries_start_nothing(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    trigger = await make_trigger(client)
    other = await make_trigger(client)
    now = int(time.time())
    attempts = [
        standard_signed(other["secret"], BODY, "forged"),
        standard_signed(trigger["secret"], BODY, "old", at=now - 400),
        standard_signed(trigger["secret"], BODY, "future", at=now + 400),
        {"content-type": "application/json"},
    ]

    for headers in attempts:
        response = await sender.post(trigger["path"], content=BODY, headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["error_code"] == "WEBHOOK_REFUSED"
        assert response.json()["request_id"]

    assert await run_count(client) == 0
    logged = await deliveries(client, trigger["id"])
    assert [d["outcome"] for d in logged] == ["refused"] * 4
    assert sorted(d["reason"] for d in logged) == [
        "bad_signature",
        "missing_header",
        "stale_timestamp",
        "stale_timestamp",
    ]
    assert all(d["run_id"] is None for d in logged)


async def test_a_changed_body_is_refused(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    trigger = await make_trigger(client)
    headers = standard_signed(trigger["secret"], BODY)

    response = await sender.post(trigger["path"], content=BODY + b" ", headers=headers)

    assert response.status_code == 401
    assert await run_count(client) == 0


async def test_an_unknown_trigger_is_refused_like_a_bad_signature(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    trigger = await make_trigger(client)
    headers = standard_signed(trigger["secret"], BODY)

    response = await sender.post(f"{API}/hooks/wh_unknown", content=BODY, headers=headers)

    assert response.status_code == 401
    assert response.json()["error_code"] == "WEBHOOK_REFUSED"
    assert await run_count(client) == 0


async def test_a_repeated_delivery_returns_the_run_already_made(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    trigger = await make_trigger(client)
    headers = standard_signed(trigger["secret"], BODY, "msg_again")

    first = await sender.post(trigger["path"], content=BODY, headers=headers)
    again = await sender.post(trigger["path"], content=BODY, headers=headers)

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert await run_count(client) == 1
    outcomes = sorted(d["outcome"] for d in await deliveries(client, trigger["id"]))
    assert outcomes == ["accepted", "replayed"]


async def test_an_oversized_delivery_starts_nothing(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    trigger = await make_trigger(client)
    body = json.dumps({"blob": "x" * (2 * 1024 * 1024)}).encode()

    response = await sender.post(
        trigger["path"], content=body, headers=standard_signed(trigger["secret"], body)
    )

    assert response.status_code == 413
    assert response.json()["error_code"] == "PAYLOAD_TOO_LARGE"
    assert await run_count(client) == 0
    [logged] = await deliveries(client, trigger["id"])
    assert (logged["outcome"], logged["reason"]) == ("refused", "body_too_large")
    assert logged["delivery_id"] == "msg_1"


async def test_a_signed_body_no_database_can_store_is_refused_and_logged(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    trigger = await make_trigger(client)
    bodies = [b'{"x": NaN}', b'{"x": 1e400}', b'{"x": "a\\u0000b"}', b"[" * 70 + b"]" * 70]

    for n, body in enumerate(bodies):
        headers = standard_signed(trigger["secret"], body, f"msg_{n}")
        response = await sender.post(trigger["path"], content=body, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["error_code"] == "VALIDATION_ERROR"
    # Unsigned, it is refused for its signature first, as any delivery is.
    forged = await sender.post(
        trigger["path"], content=bodies[0], headers={"content-type": "application/json"}
    )

    assert forged.status_code == 401
    assert await run_count(client) == 0
    logged = await deliveries(client, trigger["id"])
    assert sorted(d["reason"] for d in logged) == [
        "missing_header",
        "not_json_number",
        "nul_character",
        "number_out_of_range",
        "too_deep",
    ]


async def test_github_deliveries(client: httpx.AsyncClient, sender: httpx.AsyncClient) -> None:
    trigger = await make_trigger(client, scheme="github")

    good = await sender.post(
        trigger["path"], content=BODY, headers=github_signed(trigger["secret"], BODY)
    )
    redelivered = await sender.post(
        trigger["path"], content=BODY, headers=github_signed(trigger["secret"], BODY)
    )
    forged = await sender.post(
        trigger["path"], content=BODY, headers=github_signed("guess", BODY, "gh-2")
    )

    assert good.status_code == 201, good.text
    assert redelivered.status_code == 200
    assert redelivered.json()["id"] == good.json()["id"]
    assert forged.status_code == 401
    assert await run_count(client) == 1


async def test_stripe_deliveries(client: httpx.AsyncClient, sender: httpx.AsyncClient) -> None:
    trigger = await make_trigger(client, scheme="stripe")
    secret = trigger["secret"]

    good = await sender.post(trigger["path"], content=BODY, headers=stripe_signed(secret, BODY))
    stale = await sender.post(
        trigger["path"],
        content=BODY,
        headers=stripe_signed(secret, BODY, at=int(time.time()) - 600),
    )

    assert good.status_code == 201, good.text
    assert good.json()["input"]["order"] == 42
    assert stale.status_code == 401
    assert stale.json()["details"]["reason"] == "stale_timestamp"
    assert await run_count(client) == 1


async def test_hmac_header_and_bearer_schemes(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    signed = await make_trigger(
        client, scheme="hmac", hmac={"header": "X-Shop-Hmac", "prefix": "sha256="}
    )
    bearer = await make_trigger(client, scheme="bearer")
    digest = hmac.new(signed["secret"].encode(), BODY, hashlib.sha256).hexdigest()
    json_type = {"content-type": "application/json"}

    by_header = await sender.post(
        signed["path"], content=BODY, headers={**json_type, "X-Shop-Hmac": f"sha256={digest}"}
    )
    by_token = await sender.post(
        bearer["path"],
        content=BODY,
        headers={**json_type, "Authorization": f"Bearer {bearer['secret']}"},
    )
    wrong_token = await sender.post(
        bearer["path"], content=BODY, headers={**json_type, "Authorization": "Bearer nope"}
    )

    assert by_header.status_code == 201, by_header.text
    assert by_token.status_code == 201, by_token.text
    assert wrong_token.status_code == 401
    assert await run_count(client) == 2


async def test_form_and_text_bodies(client: httpx.AsyncClient, sender: httpx.AsyncClient) -> None:
    trigger = await make_trigger(client, scheme="bearer")
    token = {"Authorization": f"Bearer {trigger['secret']}"}

    form = await sender.post(
        trigger["path"],
        content=b"name=Ada&tag=a&tag=b",
        headers={**token, "content-type": "application/x-www-form-urlencoded"},
    )
    text = await sender.post(
        trigger["path"], content=b"plain words", headers={**token, "content-type": "text/plain"}
    )
    listed = await sender.post(
        trigger["path"], content=b"[1, 2]", headers={**token, "content-type": "application/json"}
    )

    assert form.status_code == 201, form.text
    assert form.json()["input"] == {"name": "Ada", "tag": ["a", "b"]}
    assert text.json()["input"] == {"body": "plain words"}
    assert listed.json()["input"] == {"body": [1, 2]}


async def test_a_transform_builds_the_input(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    transform = {
        "order_id": "{{ body.order }}",
        "event": "{{ headers['x-event'] }}",
        "note": "{{ body.note }}",
    }
    trigger = await make_trigger(client, transform=transform)
    headers = {**standard_signed(trigger["secret"], BODY), "x-event": "order.paid"}

    response = await sender.post(trigger["path"], content=BODY, headers=headers)

    assert response.status_code == 201, response.text
    assert response.json()["input"] == {
        "order_id": 42,
        "event": "order.paid",
        "note": "{{ 7*7 }}",
    }


async def test_input_that_breaks_the_schema_is_refused_and_logged(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    schema = {"type": "object", "required": ["customer"]}
    workflow_id = await publish(client, ECHO, input_schema=schema)
    trigger = await make_trigger(client, workflow_id)

    response = await sender.post(
        trigger["path"], content=BODY, headers=standard_signed(trigger["secret"], BODY)
    )

    assert response.status_code == 422
    assert response.json()["error_code"] == "INPUT_INVALID"
    assert await run_count(client) == 0
    [logged] = await deliveries(client, trigger["id"])
    assert (logged["outcome"], logged["reason"]) == ("refused", "INPUT_INVALID")


async def test_text_no_database_can_store_is_refused(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    trigger = await make_trigger(client, scheme="bearer")
    token = {"Authorization": f"Bearer {trigger['secret']}"}
    form = {**token, "content-type": "application/x-www-form-urlencoded"}

    text = await sender.post(trigger["path"], content=b"a\x00b", headers=token)
    encoded = await sender.post(trigger["path"], content=b"a=%00", headers=form)
    not_utf8 = await sender.post(trigger["path"], content=b"\xff\xfe", headers=token)

    assert (text.status_code, encoded.status_code, not_utf8.status_code) == (400, 400, 400)
    assert text.json()["error_code"] == "WEBHOOK_BODY_UNREADABLE"
    assert await run_count(client) == 0
    logged = await deliveries(client, trigger["id"])
    assert {d["reason"] for d in logged} == {"WEBHOOK_BODY_UNREADABLE"}


async def test_the_same_delivery_twice_at_once_starts_one_run(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    trigger = await make_trigger(client)
    headers = standard_signed(trigger["secret"], BODY, "msg_twice")

    answers = await asyncio.gather(
        *(sender.post(trigger["path"], content=BODY, headers=headers) for _ in range(2))
    )

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses in ([200, 201], [201, 409]), [a.text for a in answers]
    assert await run_count(client) == 1


async def test_a_transform_that_fails_on_a_body_starts_nothing(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    trigger = await make_trigger(client, transform={"who": "{{ body.customer.name }}"})

    response = await sender.post(
        trigger["path"], content=BODY, headers=standard_signed(trigger["secret"], BODY)
    )

    assert response.status_code == 422
    assert response.json()["error_code"] == "WEBHOOK_TRANSFORM_FAILED"
    assert await run_count(client) == 0
    [logged] = await deliveries(client, trigger["id"])
    assert logged["reason"] == "WEBHOOK_TRANSFORM_FAILED"


async def test_a_delivery_id_the_key_rule_refuses_is_named_by_its_own_header(
    client: httpx.AsyncClient, sender: httpx.AsyncClient
) -> None:
    trigger = await make_trigger(client)
    headers = standard_signed(trigger["secret"], BODY, "msg with spaces")

    response = await sender.post(trigger["path"], content=BODY, headers=headers)

    assert response.status_code == 422, response.text
    assert response.json()["error_code"] == "INVALID_IDEMPOTENCY_KEY"
    # The sender set webhook-id, not X-Idempotency-Key.
    assert response.json()["message"].startswith("the webhook-id header must be")
    assert await run_count(client) == 0
    [logged] = await deliveries(client, trigger["id"])
    assert logged["outcome"] == "refused"
