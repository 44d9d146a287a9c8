"""The plan, made before any change: references checked, objects matched by their keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from towpath.apply.errors import ApplyError
from towpath.apply.export import write_files
from towpath.apply.kinds import WORKFLOW
from towpath.apply.loader import document, load_directory
from towpath.apply.plan import make_plan
from towpath.apply.state import Current, Lineage, ServerState
from towpath.cli import app as cli

if TYPE_CHECKING:
    from pathlib import Path

TWO_OBJECTS = """\
kind: Subscription
url: http://127.0.0.1:9/all
event_types: [run.failed]
---
kind: Agent
name: summarizer
url: http://127.0.0.1:9/summarize
"""


def test_a_yaml_file_may_hold_several_objects_planned_agents_first(tmp_path: Path) -> None:
    (tmp_path / "both.yaml").write_text(TWO_OBJECTS)

    steps = make_plan(load_directory(tmp_path), ServerState())

    assert [(step.action, step.desired.label) for step in steps] == [
        ("create", "agent summarizer"),
        ("create", "subscription http://127.0.0.1:9/all of every workflow"),
    ]


def test_a_schedule_of_a_workflow_defined_nowhere_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nightly.yaml"
    path.write_text("kind: Schedule\nname: nightly\nworkflow: ghost\nspec: {cron: ['0 2 * * *']}\n")

    with pytest.raises(
        ApplyError, match="no workflow named 'ghost' here or on the server"
    ) as raised:
        make_plan(load_directory(tmp_path), ServerState())
    assert raised.value.path == path


def test_an_unknown_export_format_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["export", str(tmp_path), "--format", "toml"])

    assert result.exit_code == 2
    assert "unknown format 'toml'; use yaml or json" in result.output


def test_a_server_that_does_not_answer_is_named(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("kind: Agent\nname: a\nurl: http://127.0.0.1:9/a\n")
    # Port 9 (discard) has no listener here: the connection is refused at once.
    args = ["apply", "-f", str(tmp_path), "--url", "http://127.0.0.1:9", "--api-key", "tp_x"]

    result = CliRunner().invoke(cli, args)

    assert result.exit_code == 1
    assert "apply failed: cannot reach http://127.0.0.1:9/api/v1/: ConnectError" in result.output


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (b"kind: Agent\nname: \xff\xfe\n", "not valid YAML"),
        (b"kind: Agent\nname: &a [*a]\n", "nests too deep"),
        # A few hundred bytes that would expand to 10^9 values.
        (
            b"a: &a [x,x,x,x,x,x,x,x,x,x]\n"
            + b"".join(
                f"{c}: &{c} [{','.join([f'*{p}'] * 10)}]\n".encode()
                for p, c in zip("abcdefgh", "bcdefghi", strict=True)
            ),
            "expands to more than",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_named_with_why(
    tmp_path: Path, text: bytes, said: str
) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes(text)

    with pytest.raises(ApplyError) as refused:
        load_directory(tmp_path)

    assert str(path) in str(refused.value)
    assert said in str(refused.value)


def test_a_url_or_key_that_cannot_be_sent_is_named(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("kind: Agent\nname: a\nurl: http://127.0.0.1:9/a\n")

    for url, key in [("http://[::1", "tp_x"), ("http://127.0.0.1:9", "tp_…")]:
        result = CliRunner().invoke(
            cli, ["apply", "-f", str(tmp_path), "--url", url, "--api-key", key]
        )

        assert result.exit_code == 1, result.output
        assert "apply failed: cannot send a request to" in result.output


def test_an_export_into_a_file_is_named(tmp_path: Path) -> None:
    taken = tmp_path / "afile"
    taken.write_text("")
    agent = document({"kind": "Agent", "name": "a", "url": "http://127.0.0.1:9/a"})

    with pytest.raises(ApplyError) as refused:
        write_files([agent], taken, "yaml")

    assert "cannot write it" in str(refused.value)


def test_a_schedule_of_a_workflow_with_only_a_draft_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "nightly.yaml"
    path.write_text(
        "kind: Schedule\nname: nightly\nworkflow: drafty\nspec: {cron: ['0 2 * * *']}\n"
    )
    state = ServerState()
    draft = {"id": "wf-1", "name": "drafty", "version": 1, "status": "draft"}
    state.add(WORKFLOW, "drafty", Current("wf-1", None, Lineage([draft])))

    # Refused while planning, so a dry run says it too, and by the workflow's name.
    with pytest.raises(ApplyError, match="workflow 'drafty' has no published version") as raised:
        make_plan(load_directory(tmp_path), state)
    assert raised.value.path == path
