"""Scenario 8: `scripts/fuzz` (schemathesis, every check, the stateful phase) with 500
examples per operation; its summary line gives the figures. --short does not run it
again: CI runs `scripts/fuzz` (25 examples per operation) as a step of its own."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from typing import TYPE_CHECKING

from bench.common import ROOT

from chaos.figures import Figure, exactly, measured, said

if TYPE_CHECKING:
    from pathlib import Path

    from chaos.postgres import Postgres

NAME = "8 schemathesis"
SUMMARY = re.compile(r"schemathesis: (\S+) cases run on (\d+) operations; (\d+) operations failed")


async def scenario(pg: Postgres, work: Path, long: bool) -> list[Figure]:
    if not long:
        return [said(NAME, "examples per operation", "25, CI's scripts/fuzz step", "500", ok=True)]
    env = {**os.environ, "FUZZ_EXAMPLES": "500", "FUZZ_LOG": str(work / "fuzz.log")}
    done = await asyncio.to_thread(
        subprocess.run,
        [str(ROOT / "scripts" / "fuzz")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    (work / "fuzz.out").write_text(done.stdout + done.stderr)
    found = SUMMARY.search(done.stdout)
    if found is None:
        return [exactly(NAME, "fuzz run finished with its summary", 0, 1)]
    cases, operations, failed = found.groups()
    return [
        measured(
            NAME, f"cases run on {operations} operations", float(cases) if cases.isdigit() else 0
        ),
        exactly(NAME, "operations failed", int(failed), 0),
        exactly(NAME, "exit status", done.returncode, 0),
    ]
