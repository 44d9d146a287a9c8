"""The defaults apply fills in are the API's own, so a file that leaves a field out compares
equal to what the server stored for it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from towpath.api.schemas.agents import AgentCreate
from towpath.api.schemas.schedules import ScheduleCreate, ScheduleSpecInput
from towpath.api.schemas.subscriptions import SubscriptionCreate
from towpath.api.schemas.workflows import WorkflowCreate
from towpath.apply.errors import ApplyError
from towpath.apply.kinds import (
    AGENT,
    RETRY_DEFAULTS,
    SCHEDULE,
    SPEC_DEFAULTS,
    SUBSCRIPTION,
    WORKFLOW,
    comparable,
)
from towpath.apply.loader import load_directory
from towpath.steps.common import RetryPolicy

if TYPE_CHECKING:
    from pathlib import Path

    from pydantic import BaseModel


def _defaults(model: type[BaseModel]) -> dict[str, Any]:
    return {
        name: field.get_default(call_default_factory=True)
        for name, field in model.model_fields.items()
        if not field.is_required()
    }


def test_the_defaults_are_the_api_s() -> None:
    agent = {("agent_kind" if k == "kind" else k): v for k, v in _defaults(AgentCreate).items()}
    agent["retry"] = {}
    schedule = {k: v for k, v in _defaults(ScheduleCreate).items() if k != "version_id"}
    subscription = {
        ("workflow" if k == "workflow_id" else k): v
        for k, v in _defaults(SubscriptionCreate).items()
    }
    workflow = {k: v for k, v in _defaults(WorkflowCreate).items() if k != "definition"}

    assert AGENT.defaults == agent
    assert {k: v for k, v in SCHEDULE.defaults.items() if k != "workflow_version"} == schedule
    assert _defaults(ScheduleSpecInput) == SPEC_DEFAULTS
    assert SUBSCRIPTION.defaults == {**subscription, "enabled": True}
    assert WORKFLOW.defaults == workflow
    assert RetryPolicy().model_dump() == RETRY_DEFAULTS


def test_a_file_compares_equal_to_the_api_s_rewrite_of_it() -> None:
    given = {"name": "a", "url": "http://x", "retry": {"max_attempts": 1, "backoff_seconds": 2}}
    stored = {**given, "retry": {"backoff_seconds": 2.0}, "timeout_seconds": 30}
    spec = {"cron": ["0 * * * *"], "start_at": "2026-01-01T01:00:00+01:00"}
    stored_spec = {**SPEC_DEFAULTS, **spec, "start_at": "2026-01-01T00:00:00+00:00"}

    assert comparable(AGENT, given) == comparable(AGENT, stored)
    assert comparable(SCHEDULE, {"spec": spec}) == comparable(SCHEDULE, {"spec": stored_spec})


def test_one_object_in_two_files_is_refused_naming_both(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("kind: Agent\nname: one\nurl: http://x\n")
    (tmp_path / "b.json").write_text('{"kind": "Agent", "name": "one", "url": "http://y"}')

    with pytest.raises(ApplyError, match=r"b\.json: agent one is defined in .*a\.yaml too"):
        load_directory(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: Agent\nurl: http://x\n", "an object of kind Agent needs `name`"),
        ("kind: Agent\nname: a\nurl: http://x\nkindd: x\n", "unknown field 'kindd'"),
        ("kind: Workflow\nname: [a\n", "not valid YAML"),
        ("- just a list\n", "an object"),
    ],
)
def test_a_file_that_names_no_object_is_refused(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "bad.yaml").write_text(text)

    with pytest.raises(ApplyError, match=message) as raised:
        load_directory(tmp_path)
    assert raised.value.path == tmp_path / "bad.yaml"
