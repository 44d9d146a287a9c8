"""`towpath export DIR`: the server's definitions as files that apply back unchanged."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.apply.definitions import AGENT, team_directory, write
from tests.runs import API

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

    from tests.apply.conftest import Towpath

# The team's directory exactly as `towpath export` writes it.
EXPORTED = {
    "agents/summarizer.yaml": """\
kind: Agent
name: summarizer
agent_kind: http
url: http://127.0.0.1:9/summarize
description: ''
capabilities:
- summarize
headers:
  Authorization: Bearer {{ secrets.SUMMARIZER_TOKEN }}
timeout_seconds: 30.0
retry:
  max_attempts: 3
config: {}
enabled: true
""",
    "workflows/greeter.yaml": """\
kind: Workflow
name: greeter
description: Greets whoever it is given
definition:
  edges:
  - id: greet->done
    source: greet
    target: done
  nodes:
  - data:
      config:
        output:
          text: hello {{ input.name }}
      label: greet
    id: greet
    position:
      x: 0
      y: 0
    type: transform
  - data:
      config:
        output:
          said: '{{ greet.text }}'
      label: done
    id: done
    position:
      x: 0
      y: 0
    type: transform
""",
    "schedules/greet-hourly.yaml": """\
kind: Schedule
name: greet-hourly
workflow: greeter
spec:
  cron:
  - 0 * * * *
  end_at: null
  intervals:
  - every_seconds: 900
    offset_seconds: 0
  jitter_seconds: 0
  start_at: '2026-01-01T00:00:00+00:00'
  timezone: Europe/Paris
input:
  name: team
overlap: skip
catchup_window_seconds: 60
pause_on_failure: false
""",
    "subscriptions/greeter-127-0-0-1-9-hooks-greeter.yaml": """\
kind: Subscription
workflow: greeter
url: http://127.0.0.1:9/hooks/greeter
event_types:
- run.completed
- run.failed
description: Tell the team
enabled: false
""",
}


def _files(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): path.read_text()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


async def test_export_writes_back_the_directory_it_was_applied_from(
    towpath: Towpath, tmp_path: Path
) -> None:
    given = tmp_path / "given"
    for relative, text in EXPORTED.items():
        (given / relative).parent.mkdir(parents=True, exist_ok=True)
        (given / relative).write_text(text)
    applied = await towpath.run("apply", "-f", str(given))
    assert applied.exit_code == 0, applied.output

    exported = await towpath.run("export", str(tmp_path / "out"))

    assert exported.exit_code == 0, exported.output
    assert _files(tmp_path / "out") == _files(given)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
async def test_applying_an_export_changes_nothing(
    towpath: Towpath, tmp_path: Path, fmt: str
) -> None:
    assert (await towpath.run("apply", "-f", str(team_directory(tmp_path / "defs")))).exit_code == 0

    exported = await towpath.run("export", str(tmp_path / "out"), "--format", fmt)
    again = await towpath.run("apply", "-f", str(tmp_path / "out"))

    assert exported.exit_code == 0, exported.output
    assert "4 files written" in exported.output
    assert all(name.endswith(f".{fmt}") for name in _files(tmp_path / "out"))
    assert again.exit_code == 0, again.output
    assert "0 changed (0 created, 0 updated), 4 unchanged" in again.output


async def test_an_agent_exports_its_secret_reference_never_the_value(
    towpath: Towpath, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    stored = await client.post(
        f"{API}/secrets", json={"name": "SUMMARIZER_TOKEN", "value": "s3cr3t-value-xyz"}
    )
    assert stored.status_code == 201, stored.text
    write(tmp_path / "defs", "agent.yaml", AGENT)
    literal = {**AGENT, "name": "legacy", "headers": {"X-Api-Key": "plain-key-123"}}
    write(tmp_path / "defs", "legacy.yaml", literal)
    assert (await towpath.run("apply", "-f", str(tmp_path / "defs"))).exit_code == 0

    exported = await towpath.run("export", str(tmp_path / "out"))

    files = _files(tmp_path / "out")
    assert sorted(files) == ["agents/legacy.yaml", "agents/summarizer.yaml"]
    assert "Bearer {{ secrets.SUMMARIZER_TOKEN }}" in files["agents/summarizer.yaml"]
    assert not any("s3cr3t-value-xyz" in text for text in files.values())
    assert "agent legacy: header X-Api-Key holds a literal value" in exported.output


async def test_what_names_a_workflow_left_out_is_left_out_too(
    towpath: Towpath, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    draft = await client.post(
        f"{API}/workflows",
        json={"name": "drafty", "definition": {"nodes": [], "edges": []}},
    )
    assert draft.status_code == 201, draft.text
    hook = {"url": "https://example.com/h", "event_types": ["run.failed"]}
    made = await client.post(
        f"{API}/subscriptions", json={**hook, "workflow_id": draft.json()["id"]}
    )
    assert made.status_code == 201, made.text

    exported = await towpath.run("export", str(tmp_path / "out"))

    # A subscription naming a workflow no file defines would stop the export's apply.
    assert exported.exit_code == 0, exported.output
    assert _files(tmp_path / "out") == {}
    assert "its workflow drafty has no published version" in exported.output
