"""`towpath apply` and `towpath export` as functions: a directory, a server, a printer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from towpath.apply.client import Api
from towpath.apply.execute import Applier
from towpath.apply.export import exported, write_files
from towpath.apply.loader import load_directory
from towpath.apply.plan import Step, describe, make_plan, summary
from towpath.apply.state import read_state

if TYPE_CHECKING:
    from pathlib import Path

    from towpath.apply.execute import Say
    from towpath.apply.export import Format


async def apply_directory(
    url: str, api_key: str | None, directory: Path, say: Say, *, dry_run: bool = False
) -> list[Step]:
    """Make the server hold what the files of `directory` define; every file is read and
    checked, and the plan made, before the first change."""
    documents = load_directory(directory)
    async with Api(url, api_key) as api:
        state = await read_state(api)
        steps = make_plan(documents, state)
        if dry_run:
            for step in steps:
                for line in describe(step, dry_run=True):
                    say(line)
        else:
            await Applier(api, state, say).run(steps)
    say(summary(steps, dry_run=dry_run))
    return steps


async def export_directory(
    url: str, api_key: str | None, directory: Path, say: Say, *, fmt: Format = "yaml"
) -> list[Path]:
    """Write the server's agents, workflows (their newest published version), schedules and
    subscriptions under `directory`, one file each. Secrets are not exported."""
    async with Api(url, api_key) as api:
        state = await read_state(api)
    docs, notes = exported(state)
    written = write_files(docs, directory, fmt)
    for note in notes:
        say(note)
    say(f"{len(written)} files written under {directory}")
    return written
