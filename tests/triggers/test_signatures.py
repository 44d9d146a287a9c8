"""Each signature scheme accepts what its senders sign and refuses everything else."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from towpath.triggers.signatures import (
    Encoding,
    HmacHeader,
    Scheme,
    WebhookRefused,
    delivery_id,
    new_secret,
    sign_standard,
    verify_bearer,
    verify_github,
    verify_hmac_header,
    verify_standard,
    verify_stripe,
)

# The Standard Webhooks specification's published test vector.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
STAMP = 1614265330
PAYLOAD = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def standard_headers(signature: str = SIGNATURE, stamp: int = STAMP) -> dict[str, str]:
    return {"webhook-id": MSG_ID, "webhook-timestamp": str(stamp), "webhook-signature": signature}


def reason(error: pytest.ExceptionInfo[WebhookRefused]) -> str:
    return error.value.reason


def test_the_specifications_vector_signs_and_verifies() -> None:
    assert sign_standard(SECRET, MSG_ID, STAMP, PAYLOAD) == SIGNATURE

    verify_standard([SECRET], standard_headers(), PAYLOAD, now=STAMP)


def test_a_secret_without_its_prefix_verifies_the_same() -> None:
    verify_standard(["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], standard_headers(), PAYLOAD, STAMP)


def test_the_specifications_altered_signature_is_refused() -> None:
    forged = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="

    with pytest.raises(WebhookRefused) as refused:
        verify_standard([SECRET], standard_headers(forged), PAYLOAD, STAMP)

    assert reason(refused) == "bad_signature"


def test_one_matching_entry_among_several_verifies() -> None:
    other = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
    entries = " ".join([other, "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=", SIGNATURE])

    verify_standard([SECRET], standard_headers(entries), PAYLOAD, STAMP)


def test_a_changed_body_is_refused() -> None:
    with pytest.raises(WebhookRefused):
        verify_standard([SECRET], standard_headers(), b'{"test": 2432232315}', STAMP)


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_timestamp_over_five_minutes_off_either_way_is_refused(offset: int) -> None:
    with pytest.raises(WebhookRefused) as refused:
        verify_standard([SECRET], standard_headers(), PAYLOAD, now=STAMP + offset)

    assert reason(refused) == "stale_timestamp"


@pytest.mark.parametrize("offset", [-300, 300])
def test_a_timestamp_within_five_minutes_verifies(offset: int) -> None:
    verify_standard([SECRET], standard_headers(), PAYLOAD, now=STAMP + offset)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_refused(missing: str) -> None:
    headers = standard_headers()
    del headers[missing]

    with pytest.raises(WebhookRefused) as refused:
        verify_standard([SECRET], headers, PAYLOAD, STAMP)

    assert reason(refused) == "missing_header"


def test_a_timestamp_that_is_not_a_number_is_refused() -> None:
    headers = {**standard_headers(), "webhook-timestamp": "hello"}

    with pytest.raises(WebhookRefused) as refused:
        verify_standard([SECRET], headers, PAYLOAD, STAMP)

    assert reason(refused) == "bad_timestamp"


def test_any_of_several_secrets_verifies() -> None:
    verify_standard([new_secret(Scheme.STANDARD), SECRET], standard_headers(), PAYLOAD, STAMP)


def _hex_mac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def test_github_signs_the_raw_body() -> None:
    # GitHub's documented example: secret "It's a Secret to Everybody", body "Hello, World!".
    headers = {
        "x-hub-signature-256": "sha256="
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    }

    verify_github(["It's a Secret to Everybody"], headers, b"Hello, World!")
    with pytest.raises(WebhookRefused):
        verify_github(["It's a Secret to Everybody"], headers, b"Hello, World?")
    with pytest.raises(WebhookRefused):
        verify_github(["another secret"], headers, b"Hello, World!")


def test_github_refuses_another_algorithm() -> None:
    headers = {"x-hub-signature-256": "sha1=" + _hex_mac("s", b"x")}

    with pytest.raises(WebhookRefused):
        verify_github(["s"], headers, b"x")


def test_stripe_signs_the_timestamp_and_body() -> None:
    secret = "whsec_test"
    body = b'{"id": "evt_1"}'
    good = _hex_mac(secret, f"{STAMP}.".encode() + body)
    headers = {"stripe-signature": f"t={STAMP},v1={'0' * 64},v1={good},v0=ignored"}

    verify_stripe([secret], headers, body, now=STAMP + 10)
    with pytest.raises(WebhookRefused) as stale:
        verify_stripe([secret], headers, body, now=STAMP + 301)
    assert reason(stale) == "stale_timestamp"
    with pytest.raises(WebhookRefused) as forged:
        verify_stripe(["whsec_other"], headers, body, now=STAMP)
    assert reason(forged) == "bad_signature"


def test_stripe_without_a_timestamp_is_refused() -> None:
    with pytest.raises(WebhookRefused) as refused:
        verify_stripe(["s"], {"stripe-signature": "v1=00"}, b"", STAMP)

    assert reason(refused) == "bad_timestamp"


def test_a_generic_hmac_header_in_hex_or_base64() -> None:
    body = b"payload"
    digest = hmac.new(b"key", body, hashlib.sha256).digest()
    as_hex = HmacHeader("x-sig", Encoding.HEX, "sha256=")
    as_base64 = HmacHeader("x-sig", Encoding.BASE64)

    verify_hmac_header(["key"], {"x-sig": "sha256=" + digest.hex()}, body, as_hex)
    verify_hmac_header(["key"], {"x-sig": base64.b64encode(digest).decode()}, body, as_base64)
    with pytest.raises(WebhookRefused):
        verify_hmac_header(["key"], {"x-sig": digest.hex()}, body, as_hex)
    with pytest.raises(WebhookRefused):
        verify_hmac_header(["key"], {"x-sig": "not base64!"}, body, as_base64)


def test_a_bearer_token() -> None:
    verify_bearer(["token-1"], {"authorization": "Bearer token-1"})
    for sent in ("Bearer token-2", "Basic token-1", "Bearer "):
        with pytest.raises(WebhookRefused):
            verify_bearer(["token-1"], {"authorization": sent})


def test_a_delivery_is_named_by_its_schemes_header_or_the_idempotency_key() -> None:
    headers = {"webhook-id": "msg_1", "x-github-delivery": "gh-1", "x-idempotency-key": "k-1"}

    assert delivery_id(Scheme.STANDARD, headers) == "msg_1"
    assert delivery_id(Scheme.GITHUB, headers) == "gh-1"
    assert delivery_id(Scheme.STRIPE, headers) == "k-1"
    assert delivery_id(Scheme.BEARER, {}) is None


def test_a_new_standard_secret_is_whsec_and_base64() -> None:
    secret = new_secret(Scheme.STANDARD)

    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
