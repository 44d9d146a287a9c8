"""The commands for scripts against a live server: their `--json` parses and says what the
API says, refusals print the envelope's message and exit 1, and the server and key come
from the flags, else the environment, else the config file."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

from tests.cli.conftest import environment, towpath
from tests.client.conftest import WAITS_FOR_APPROVAL
from tests.waiting import eventually
from towpath.client import AsyncClient, calls

if TYPE_CHECKING:
    from pathlib import Path

    from tests.events.conftest import LiveServer


async def test_a_run_steered_by_commands_with_json(server: LiveServer, api_key: str) -> None:
    env = environment(server.http, api_key)
    async with AsyncClient(server.http, api_key) as tp:
        created = await tp.send(
            calls.create_workflow({"name": "ship", "definition": WAITS_FOR_APPROVAL})
        )

        published = await towpath("workflows", "publish", created.id, "--json", env=env)
        assert json.loads(published.out)["status"] == "published", published.err
        listed = await towpath("workflows", "list", "--json", env=env)
        assert [w["id"] for w in json.loads(listed.out)] == [created.id]
        valid = await towpath("workflows", "validate", created.id, "--json", env=env)
        assert json.loads(valid.out)["valid"] is True

        started = await towpath(
            "runs", "start", created.id, "--input", '{"n": 1}', "--json", env=env
        )
        run = json.loads(started.out)
        assert run["input"] == {"n": 1}

        async def waiting() -> bool:
            return (await tp.send(calls.get_run(run["id"]))).status == "waiting"

        await eventually(waiting, 15, "the run waits for its approval")
        inbox = await towpath("inbox", "--json", env=env)
        assert [(i["run_id"], i["step_id"]) for i in json.loads(inbox.out)] == [
            (run["id"], "review")
        ]
        approved = await towpath("approve", run["id"], "--comment", "ok", "--json", env=env)
        assert json.loads(approved.out)["status"] == "completed", approved.err

        shown = json.loads((await towpath("runs", "show", run["id"], "--json", env=env)).out)
        assert shown["run"]["status"] == "completed"
        assert [s["step_id"] for s in shown["steps"]] == ["prepare", "review", "ship"]
        runs = json.loads((await towpath("runs", "list", "--json", env=env)).out)
        assert [r["id"] for r in runs] == [run["id"]]
        plan = await towpath(
            "runs", "retry", run["id"], "--from-step", "ship", "--dry-run", "--json", env=env
        )
        assert json.loads(plan.out)["run_again"] == ["ship"]


async def test_a_refusal_prints_the_message_and_exits_1(server: LiveServer, api_key: str) -> None:
    done = await towpath("runs", "show", "no-such-run", env=environment(server.http, api_key))
    assert done.code == 1
    assert "run 'no-such-run' not found [RUN_NOT_FOUND]" in done.err
    assert done.out == ""


async def test_text_people_typed_is_shown_as_text_never_as_markup(
    server: LiveServer, api_key: str
) -> None:
    env = environment(server.http, api_key)
    async with AsyncClient(server.http, api_key) as tp:
        created = await tp.send(
            calls.create_workflow({"name": "oops [/red]", "definition": WAITS_FOR_APPROVAL})
        )
        await tp.send(calls.publish_workflow(created.id))
        run = await tp.send(calls.start_run(created.id, {"input": {}}))

        async def waiting() -> bool:
            return (await tp.send(calls.get_run(run.id))).status == "waiting"

        await eventually(waiting, 15, "the run waits for its approval")
        rejected = await towpath("reject", run.id, "--comment", "see [/finance] page", env=env)
        assert rejected.code == 0, rejected.err

        listed = await towpath("workflows", "list", env=env)
        inbox = await towpath("inbox", env=env)
        shown = await towpath("runs", "show", run.id, env=env)
        runs = await towpath("runs", "list", env=env)

    # Rich would have read `[/red]` as a closing tag and failed.
    assert listed.code == 0, listed.err
    assert "oops [/red]" in listed.out
    assert inbox.code == 0, inbox.err
    assert shown.code == 0, shown.err
    assert "[/finance]" in shown.out
    assert runs.code == 0, runs.err
    # Whole, to be copied into the next command, in 80 columns (a pipe's width) too.
    assert run.id in runs.out


async def test_a_refusal_lists_what_was_wrong(server: LiveServer, api_key: str) -> None:
    env = environment(server.http, api_key)
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    async with AsyncClient(server.http, api_key) as tp:
        created = await tp.send(
            calls.create_workflow(
                {"name": "typed", "definition": WAITS_FOR_APPROVAL, "input_schema": schema}
            )
        )
        await tp.send(calls.publish_workflow(created.id))

    refused = await towpath("runs", "start", created.id, "--input", '{"n": "two"}', env=env)

    assert refused.code == 1
    assert "[INPUT_INVALID]" in refused.err
    # Where and what, as the answer's details say it, not only how many.
    assert "/n: " in refused.err


async def test_flags_then_environment_then_config_file(
    server: LiveServer, api_key: str, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'url = "{server.http}"\napi_key = "{api_key}"\n')
    from_file = environment("", None, TOWPATH_CONFIG=str(config))
    del from_file["TOWPATH_URL"]
    assert (await towpath("runs", "list", "--json", env=from_file)).code == 0
    # `apply` and `export` find the server as every other command does.
    (tmp_path / "defs").mkdir()
    planned = await towpath("apply", "-f", str(tmp_path / "defs"), "--dry-run", env=from_file)
    assert planned.code == 0, planned.err
    exported = await towpath("export", str(tmp_path / "out"), env=from_file)
    assert exported.code == 0, exported.err

    # The environment's key wins over the file's, and the flag's over the environment's.
    wrong_env = {**from_file, "TOWPATH_API_KEY": "tp_wrong"}
    refused = await towpath("runs", "list", env=wrong_env)
    assert refused.code == 1
    assert "UNAUTHENTICATED" in refused.err or "401" in refused.err, refused.err
    flagged = await towpath("runs", "list", "--json", "--api-key", api_key, env=wrong_env)
    assert flagged.code == 0, flagged.err


def test_towpath_starts_without_the_client() -> None:
    """`towpath serve`, `worker` and `keys` do not pay for the client's models."""
    code = "import sys, towpath.cli; print('towpath.client' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603 - our own interpreter, fixed arguments
    assert done.stdout.strip() == "False"
