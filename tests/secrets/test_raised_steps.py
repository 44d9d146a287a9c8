"""A step whose code raised is logged with its traceback, the secrets it read redacted:
an exception's message may quote the URL or header a secret went into."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from towpath.domain.definition import Node
from towpath.engine.execution import _log_raised
from towpath.engine.work import Work

if TYPE_CHECKING:
    import pytest

SECRET = "tok-3f9a-very-private"


def _work(secrets: dict[str, str]) -> Work:
    node = Node(id="call", type="http_request")
    return Work(
        "sr1",
        "run1",
        "wf1",
        "call",
        -1,
        "http_request",
        1,
        "lease",
        node,
        {},
        {"secrets": secrets},
        {},
    )


def _raise_with(text: str) -> ValueError:
    try:
        raise ValueError(text)
    except ValueError as exc:
        return exc


def test_the_traceback_of_a_raised_step_names_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    exc = _raise_with(f"GET https://api.example/?key={SECRET} failed")
    with caplog.at_level(logging.ERROR, logger="towpath.engine"):
        _log_raised(_work({"API_KEY": SECRET}), exc)
    logged = caplog.records[-1].getMessage()
    assert "Traceback" in logged
    assert "ValueError" in logged
    assert SECRET not in logged
    assert "[secret:API_KEY]" in logged


def test_a_step_that_read_no_secret_is_logged_as_raised(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="towpath.engine"):
        _log_raised(_work({}), _raise_with("boom"))
    assert "ValueError: boom" in caplog.records[-1].getMessage()
