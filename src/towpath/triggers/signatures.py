"""Checking that a webhook delivery was sent by the holder of its secret; pure, no I/O.

Each scheme takes every secret that may verify (two while a rotated secret's overlap
lasts), the request's headers with lowercase names, the raw body and the time now in
Unix seconds. It returns nothing, or raises `WebhookRefused` saying why. Every
comparison is constant-time (`hmac.compare_digest`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as random
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from towpath.domain.errors import Unauthenticated

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

# How far a signed timestamp may be from now, either way (Standard Webhooks and Stripe).
TOLERANCE_SECONDS = 5 * 60
STANDARD_PREFIX = "whsec_"


class Scheme(StrEnum):
    STANDARD = "standard_webhooks"
    GITHUB = "github"
    STRIPE = "stripe"
    HMAC = "hmac"
    BEARER = "bearer"


class Encoding(StrEnum):
    HEX = "hex"
    BASE64 = "base64"


class WebhookRefused(Unauthenticated):
    """The delivery does not prove it comes from the secret's holder. `reason` is a
    stable word for the delivery log: missing_header, bad_signature, stale_timestamp…"""

    code = "WEBHOOK_REFUSED"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, details={"reason": reason})
        self.reason = reason


@dataclass(frozen=True)
class HmacHeader:
    """A generic scheme: the hex or base64 HMAC-SHA256 of the raw body in one header,
    optionally after a fixed prefix such as `sha256=`."""

    header: str = "x-signature"
    encoding: Encoding = Encoding.HEX
    prefix: str = ""


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name.lower())
    if not value:
        raise WebhookRefused("missing_header", f"the delivery has no {name} header")
    return value


def _mac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _any_matches(expected: Sequence[bytes], given: Sequence[bytes]) -> bool:
    # Every pair is compared, so the time taken does not tell which one matched.
    found = False
    for mine in expected:
        for theirs in given:
            found |= hmac.compare_digest(mine, theirs)
    return found


def _bad_signature() -> WebhookRefused:
    return WebhookRefused("bad_signature", "the delivery's signature does not match")


def _timestamp(value: str, now: int, tolerance: int) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        raise WebhookRefused("bad_timestamp", "the delivery's timestamp is not Unix seconds")
    stamp = int(value)
    if abs(now - stamp) > tolerance:
        raise WebhookRefused(
            "stale_timestamp",
            f"the delivery's timestamp is more than {tolerance} s from the server's time",
        )
    return stamp


def standard_key(secret: str) -> bytes:
    """A Standard Webhooks secret's key: the base64 after `whsec_`."""
    encoded = secret.removeprefix(STANDARD_PREFIX)
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise ValueError("a Standard Webhooks secret is whsec_ and base64") from exc


def sign_standard(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` entry a sender computes: `v1,<base64>`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(_mac(standard_key(secret), signed)).decode()


def verify_standard(
    secrets: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    now: int,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    message_id = _header(headers, "webhook-id")
    stamp = _timestamp(_header(headers, "webhook-timestamp"), now, tolerance)
    given = []
    for entry in _header(headers, "webhook-signature").split():
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue
        try:
            given.append(base64.b64decode(encoded, validate=True))
        except binascii.Error:
            continue
    signed = f"{message_id}.{stamp}.".encode() + body
    if not _any_matches([_mac(standard_key(s), signed) for s in secrets], given):
        raise _bad_signature()


def _hex(value: str) -> bytes | None:
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def verify_github(secrets: Sequence[str], headers: Mapping[str, str], body: bytes) -> None:
    """`X-Hub-Signature-256: sha256=<hex>` over the raw body."""
    value = _header(headers, "x-hub-signature-256")
    algorithm, _, digest = value.partition("=")
    given = _hex(digest) if algorithm == "sha256" else None
    if given is None or not _any_matches([_mac(s.encode(), body) for s in secrets], [given]):
        raise _bad_signature()


def verify_stripe(
    secrets: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    now: int,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """`Stripe-Signature: t=<ts>,v1=<hex>[,v1=…]`, each v1 over `{t}.{body}`."""
    stamp_text = ""
    given = []
    for item in _header(headers, "stripe-signature").split(","):
        name, _, value = item.strip().partition("=")
        if name == "t":
            stamp_text = value
        elif name == "v1" and (digest := _hex(value)) is not None:
            given.append(digest)
    if not stamp_text:
        raise WebhookRefused("bad_timestamp", "the Stripe-Signature header has no t=")
    stamp = _timestamp(stamp_text, now, tolerance)
    signed = f"{stamp}.".encode() + body
    if not _any_matches([_mac(s.encode(), signed) for s in secrets], given):
        raise _bad_signature()


def verify_hmac_header(
    secrets: Sequence[str], headers: Mapping[str, str], body: bytes, rule: HmacHeader
) -> None:
    value = _header(headers, rule.header)
    if not value.startswith(rule.prefix):
        raise _bad_signature()
    encoded = value.removeprefix(rule.prefix).strip()
    given: bytes | None
    if rule.encoding is Encoding.HEX:
        given = _hex(encoded)
    else:
        try:
            given = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            given = None
    if given is None or not _any_matches([_mac(s.encode(), body) for s in secrets], [given]):
        raise _bad_signature()


def verify_bearer(secrets: Sequence[str], headers: Mapping[str, str]) -> None:
    value = _header(headers, "authorization")
    kind, _, token = value.partition(" ")
    if kind.lower() != "bearer":
        raise _bad_signature()
    # Compared as digests: equal lengths, whatever length the caller sent.
    given = hashlib.sha256(token.strip().encode()).digest()
    expected = [hashlib.sha256(s.encode()).digest() for s in secrets]
    if not _any_matches(expected, [given]):
        raise _bad_signature()


def verify(
    scheme: Scheme,
    secrets: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    now: int,
    rule: HmacHeader | None = None,
) -> None:
    """Check a delivery by its trigger's scheme."""
    if scheme is Scheme.STANDARD:
        verify_standard(secrets, headers, body, now)
    elif scheme is Scheme.GITHUB:
        verify_github(secrets, headers, body)
    elif scheme is Scheme.STRIPE:
        verify_stripe(secrets, headers, body, now)
    elif scheme is Scheme.HMAC:
        verify_hmac_header(secrets, headers, body, rule or HmacHeader())
    else:
        verify_bearer(secrets, headers)


def new_secret(scheme: Scheme) -> str:
    """A fresh secret in the form the scheme's senders expect."""
    if scheme is Scheme.STANDARD:
        return STANDARD_PREFIX + base64.b64encode(random.token_bytes(32)).decode()
    if scheme is Scheme.STRIPE:
        return "whsec_" + random.token_hex(32)
    return random.token_hex(32)


# The header that names a delivery, so a redelivery starts no second run.
DELIVERY_ID_HEADERS = {
    Scheme.STANDARD: "webhook-id",
    Scheme.GITHUB: "x-github-delivery",
}


def delivery_id_header(scheme: Scheme, headers: Mapping[str, str]) -> str | None:
    """The header naming the delivery: the scheme's own, else `X-Idempotency-Key`."""
    own = DELIVERY_ID_HEADERS.get(scheme)
    if own and headers.get(own):
        return own
    return "X-Idempotency-Key" if headers.get("x-idempotency-key") else None


def delivery_id(scheme: Scheme, headers: Mapping[str, str]) -> str | None:
    """The delivery's id, from `delivery_id_header`."""
    header = delivery_id_header(scheme, headers)
    return headers.get(header.lower()) if header else None
