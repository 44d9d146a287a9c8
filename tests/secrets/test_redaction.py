"""redact(): a value, its base64 and its URL-encoded forms become [secret:NAME]."""

from __future__ import annotations

import base64
from urllib.parse import quote, quote_plus

from towpath.domain.secrets import Redactor, redact

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


def test_a_value_inside_encoded_basic_credentials_is_replaced() -> None:
    # The value's own base64 is not a substring of base64("user:" + value).
    basic = base64.b64encode(f"bob:{VALUE}".encode()).decode()
    assert base64.b64encode(VALUE.encode()).decode() not in basic
    found = redact(
        {"authorization": f"Basic {basic}", "other": "Basic YWxpY2U6b3RoZXI="}, {"PW": VALUE}
    )
    assert found == {"authorization": "Basic [secret:PW]", "other": "Basic YWxpY2U6b3RoZXI="}


def test_a_value_inside_any_base64_run_is_replaced_in_either_alphabet() -> None:
    for prefix in ("", "a", "ab", "abc"):
        raw = f"{prefix}{VALUE}~~".encode()
        for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw).rstrip(b"=")):
            assert redact(f"token={encoded.decode()};", {"PW": VALUE}) == "token=[secret:PW];"


def test_a_quoted_text_cut_inside_a_value_loses_the_cut_start_too() -> None:
    redactor = Redactor({"KEY": "sk-llmsecret-Hh72Pq"})
    cut = "HTTP 500: " + "x" * 20 + "Bearer sk-llmsecret-"

    assert redactor.quoted_text(cut) == "HTTP 500: " + "x" * 20 + "Bearer [secret:KEY]"
    assert redactor.quoted_text("ends in sk-llm and more") == "ends in sk-llm and more"
    # Three characters tell next to nothing, and a whole value is replaced as ever.
    assert redactor.quoted_text("ends in sk-") == "ends in sk-"
    assert redactor.quoted_text("a sk-llmsecret-Hh72Pq") == "a [secret:KEY]"
    # Output, not quoted from a cut answer, is redacted of whole values only.
    assert redactor.text("ends in sk-llm") == "ends in sk-llm"


def test_a_value_of_fewer_than_four_characters_is_left_alone() -> None:
    # Replaced, `x` would break every field name and word that holds one.
    output = {"text": "next", "n": "abc"}

    assert Redactor({"KEY": "x", "PIN": "abc"}).value(output) == output
    assert Redactor({"PIN": "abcd"}).value({"text": "abcd"}) == {"text": "[secret:PIN]"}
