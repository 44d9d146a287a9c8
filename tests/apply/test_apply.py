"""`towpath apply -f DIR`: a directory of definitions made so on a real server, idempotently."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.apply.conftest import Towpath
from tests.apply.definitions import AGENT, SCHEDULE, SUBSCRIPTION, greeter, team_directory, write
from tests.runs import API, wait_for
from towpath.services.api_keys import issue_workspace_key

if TYPE_CHECKING:
    from pathlib import Path

    import httpx
    from fastapi import FastAPI


async def _listed(client: httpx.AsyncClient, path: str) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/{path}")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def test_a_directory_is_created_then_a_second_apply_changes_nothing(
    towpath: Towpath, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    directory = team_directory(tmp_path / "defs")

    first = await towpath.run("apply", "-f", str(directory))
    second = await towpath.run("apply", "-f", str(directory))

    assert first.exit_code == 0, first.output
    assert "4 changed (4 created, 0 updated), 0 unchanged" in first.output
    assert "workflow greeter: created" in first.output
    [workflow] = await _listed(client, "workflows")
    assert (workflow["name"], workflow["status"], workflow["version"]) == (
        "greeter",
        "published",
        1,
    )
    [agent] = await _listed(client, "agents")
    assert agent["headers"] == {"Authorization": "Bearer {{ secrets.SUMMARIZER_TOKEN }}"}
    [schedule] = await _listed(client, "schedules")
    assert (schedule["name"], schedule["workflow_id"]) == ("greet-hourly", workflow["id"])
    [subscription] = await _listed(client, "subscriptions")
    assert subscription["workflow_id"] == workflow["lineage_id"]
    assert "signing secret (shown once): whsec_" in first.output
    assert second.exit_code == 0, second.output
    assert "0 changed (0 created, 0 updated), 4 unchanged" in second.output
    assert second.output.count(": unchanged") == 4
    assert len(await _listed(client, "workflows")) == 1


async def test_a_changed_workflow_is_a_new_published_version_that_runs_use(
    towpath: Towpath, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    directory = team_directory(tmp_path / "defs")
    assert (await towpath.run("apply", "-f", str(directory))).exit_code == 0
    write(directory, "workflows/greeter.yaml", greeter("good morning"))

    changed = await towpath.run("apply", "-f", str(directory))

    assert changed.exit_code == 0, changed.output
    assert "workflow greeter: updated" in changed.output
    assert "definition.nodes[0].data.config.output.text:" in changed.output
    assert "1 changed (0 created, 1 updated), 3 unchanged" in changed.output
    versions = await _listed(client, "workflows")
    assert sorted((v["version"], v["status"]) for v in versions) == [
        (1, "published"),
        (2, "published"),
    ]
    [schedule] = await _listed(client, "schedules")
    fired = await client.post(f"{API}/schedules/{schedule['id']}/trigger")
    assert fired.status_code == 201, fired.text
    run = await wait_for(client, fired.json()["run_id"], "completed")
    newest = max(versions, key=lambda v: v["version"])
    assert run["workflow_id"] == newest["id"]
    steps = {s["step_id"]: s for s in (await _listed(client, f"runs/{run['id']}/steps"))}
    assert steps["done"]["output"] == {"said": "good morning team"}


async def test_a_dry_run_prints_the_plan_and_changes_nothing(
    towpath: Towpath, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    directory = team_directory(tmp_path / "defs")

    fresh = await towpath.run("apply", "-f", str(directory), "--dry-run")

    assert fresh.exit_code == 0, fresh.output
    assert fresh.output.count(": would create") == 4
    assert "nothing was changed" in fresh.output
    assert await _listed(client, "workflows") == []
    assert await _listed(client, "schedules") == []
    assert (await towpath.run("apply", "-f", str(directory))).exit_code == 0
    write(directory, "schedules.yaml", {**SCHEDULE, "spec": {"cron": ["30 6 * * 1-5"]}})

    planned = await towpath.run("apply", "-f", str(directory), "--dry-run")

    assert planned.exit_code == 0, planned.output
    assert "schedule greet-hourly: would update" in planned.output
    assert "spec.cron[0]: '0 * * * *' -> '30 6 * * 1-5'" in planned.output
    assert "spec.timezone: 'Europe/Paris' -> 'UTC'" in planned.output
    assert "1 to change (0 to create, 1 to update), 3 unchanged" in planned.output
    [schedule] = await _listed(client, "schedules")
    assert schedule["spec"]["cron"] == ["0 * * * *"]


async def test_a_file_the_command_cannot_read_stops_it_before_any_change(
    towpath: Towpath, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    directory = team_directory(tmp_path / "defs")
    bad = write(directory, "zz/typo.yaml", {"kind": "Workflw", "name": "x"})

    result = await towpath.run("apply", "-f", str(directory))

    assert result.exit_code == 1
    assert str(bad) in result.output
    assert "`kind` must be one of" in result.output
    assert await _listed(client, "workflows") == []


async def test_a_refusal_by_the_server_names_the_file_and_the_field(
    towpath: Towpath, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    directory = team_directory(tmp_path / "defs")
    bad = write(directory, "schedules.yaml", {**SCHEDULE, "spec": {"cron": ["every hour"]}})

    result = await towpath.run("apply", "-f", str(directory))

    assert result.exit_code == 1
    assert str(bad) in result.output
    assert "SCHEDULE_INVALID" in result.output
    assert "field spec.cron[0]" in result.output
    assert await _listed(client, "schedules") == []


async def test_a_workflow_that_cannot_be_published_leaves_no_version_behind(
    towpath: Towpath, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    directory = team_directory(tmp_path / "defs")
    assert (await towpath.run("apply", "-f", str(directory))).exit_code == 0
    broken = greeter()
    broken["definition"]["edges"].append({"id": "loose", "source": "done", "target": "nowhere"})
    path = write(directory, "workflows/greeter.yaml", broken)

    result = await towpath.run("apply", "-f", str(directory))

    assert result.exit_code == 1
    assert str(path) in result.output
    assert "WORKFLOW_INVALID" in result.output
    [version] = await _listed(client, "workflows")
    assert (version["version"], version["status"]) == (1, "published")


async def test_a_workflow_change_the_server_refuses_leaves_no_draft_behind(
    towpath: Towpath, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    directory = team_directory(tmp_path / "defs")
    assert (await towpath.run("apply", "-f", str(directory))).exit_code == 0
    broken = greeter()
    broken["definition"]["nodes"] = "x"
    write(directory, "workflows/greeter.yaml", broken)

    result = await towpath.run("apply", "-f", str(directory))

    # Refused at the change itself (422), not at publish: the duplicate goes too.
    assert result.exit_code == 1
    assert "422" in result.output
    [version] = await _listed(client, "workflows")
    assert (version["version"], version["status"]) == (1, "published")


async def test_a_schedule_pinned_to_the_version_this_apply_publishes_works_on_a_fresh_server(
    towpath: Towpath, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    directory = team_directory(tmp_path / "defs")
    write(directory, "schedules.yaml", {**SCHEDULE, "workflow_version": 1})

    made = await towpath.run("apply", "-f", str(directory))

    assert made.exit_code == 0, made.output
    [workflow] = await _listed(client, "workflows")
    [schedule] = await _listed(client, "schedules")
    assert schedule["version_id"] == workflow["id"]


async def test_a_schedule_pinned_to_a_version_that_will_not_exist_changes_nothing(
    towpath: Towpath, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    directory = team_directory(tmp_path / "defs")
    path = write(directory, "schedules.yaml", {**SCHEDULE, "workflow_version": 2})

    planned = await towpath.run("apply", "-f", str(directory), "--dry-run")
    refused = await towpath.run("apply", "-f", str(directory))

    # Stopped while planning, before the first change, and so said by a dry run too.
    for result in (planned, refused):
        assert result.exit_code == 1, result.output
        assert str(path) in result.output
        assert "workflow 'greeter' has no version 2" in result.output
    assert await _listed(client, "workflows") == []


async def test_agents_schedules_and_subscriptions_change_in_place(
    towpath: Towpath, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    directory = team_directory(tmp_path / "defs")
    assert (await towpath.run("apply", "-f", str(directory))).exit_code == 0
    write(directory, "workflows/greeter.yaml", greeter("hi"))
    assert (await towpath.run("apply", "-f", str(directory))).exit_code == 0
    [before] = await _listed(client, "agents")
    write(directory, "agents/summarizer.json", {**AGENT, "timeout_seconds": 10})
    write(directory, "schedules.yaml", {**SCHEDULE, "workflow_version": 1})
    changed_hook = {**SUBSCRIPTION, "event_types": ["run.failed"], "enabled": False}
    write(directory, "hooks/greeter.yml", changed_hook)

    changed = await towpath.run("apply", "-f", str(directory))
    again = await towpath.run("apply", "-f", str(directory))

    assert changed.exit_code == 0, changed.output
    assert "3 changed (0 created, 3 updated), 1 unchanged" in changed.output
    assert "timeout_seconds: 30.0 -> 10" in changed.output
    [agent] = await _listed(client, "agents")
    assert (agent["id"], agent["timeout_seconds"]) == (before["id"], 10)
    first = next(v for v in await _listed(client, "workflows") if v["version"] == 1)
    [schedule] = await _listed(client, "schedules")
    assert schedule["version_id"] == first["id"]
    [hook] = await _listed(client, "subscriptions")
    assert (hook["event_types"], hook["enabled"]) == (["run.failed"], False)
    assert "0 changed (0 created, 0 updated), 4 unchanged" in again.output


async def test_a_viewer_may_plan_but_not_apply(
    towpath: Towpath, app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    issued = await issue_workspace_key(app.state.db, "ci", "viewer")
    viewer = Towpath(towpath.url, issued.plaintext)
    directory = team_directory(tmp_path / "defs")

    planned = await viewer.run("apply", "-f", str(directory), "--dry-run")
    refused = await viewer.run("apply", "-f", str(directory))

    assert planned.exit_code == 0, planned.output
    assert planned.output.count(": would create") == 4
    assert refused.exit_code == 1
    assert str(directory / "agents/summarizer.json") in refused.output
    assert "the server answered 403" in refused.output
    assert await _listed(client, "agents") == []
