"""redact(): a value, its base64 and its URL-encoded forms become [secret:NAME]."""

from __future__ import annotations

import base64
from urllib.parse import quote, quote_plus

from towpath.domain.secrets import redact

VALUE = "p@ss w/rd+1"


def test_every_form_of_a_value_is_replaced_wherever_it_is() -> None:
    raw = VALUE.encode()
    forms = [
        VALUE,
        quote(VALUE, safe=""),
        quote_plus(VALUE),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    ]
    document = {"list": [f"x {form} y" for form in forms], "n": 3, f"key-{VALUE}": None}
    found = redact(document, {"PW": VALUE})
    assert found["list"] == ["x [secret:PW] y"] * len(forms)
    assert found["n"] == 3
    assert "key-[secret:PW]" in found


def test_a_longer_secret_containing_a_shorter_one_is_replaced_whole() -> None:
    found = redact("a-long-token and a-long", {"SHORT": "a-long", "LONG": "a-long-token"})
    assert found == "[secret:LONG] and [secret:SHORT]"


def test_without_secrets_a_value_is_left_as_it_is() -> None:
    document = {"a": ["b"]}
    assert redact(document, {}) is document
    assert redact(document, {"EMPTY": ""}) is document
