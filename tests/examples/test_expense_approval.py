"""`examples/expense-approval/` played through against the app: the claimant's form, two
managers, finance's escalation to a director, a booking that fails and a retry from it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    import pytest
    from fastapi import FastAPI

EXAMPLE = Path(__file__).parents[2] / "examples" / "expense-approval" / "expense.py"


async def test_the_expense_claim_is_approved_escalated_retried_and_booked(
    app: FastAPI, auth_headers: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    spec = importlib.util.spec_from_file_location("expense_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    key = auth_headers["Authorization"].removeprefix("Bearer ")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    with example.ledger() as ledger_url:
        done = await example.main(
            "http://towpath.test", key, ledger_url, finance_wait_seconds=1, transport=transport
        )
        booked = list(example.Ledger.booked)

    assert done["status"] == "completed"
    # Booked once, on the new URL, with the form's answers.
    assert booked == [
        {
            "employee": "Sam",
            "amount": 1840.5,
            "cost_center": "engineering",
            "receipt": "R-20931",
        }
    ]
    shown = capsys.readouterr().out
    # The form's first, wrong answers were refused, each problem named.
    assert "clarify -> 422" in shown
    assert "expected a date as YYYY-MM-DD" in shown
    assert "finance escalated to ['group:directors']" in shown
    assert "dana's inbox: [('finance'" in shown
    assert "booking failed" in shown
    assert "would run ['book']" in shown
